"""Every database access of newsdigest: functions that take the ``Database`` first."""
