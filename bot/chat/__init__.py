"""Chat handlers, one module per feature: what readers and admins meet in Telegram.

``readers`` (/start, /stop, /time, /timezone, /settings, /help), ``topics`` (/topics
picker), ``digests`` (/digest, "More"), ``related`` (/related, story buttons),
``breaking`` (/breaking with preview), ``stats`` (/stats), ``membership``
(my_chat_member), and ``replies`` (how every answer is sent or edited).
"""
