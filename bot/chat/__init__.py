"""Chat handlers, one module per feature: what readers and admins meet in Telegram.

``readers`` (/start, /stop, /time, /timezone, /settings, /help, fallbacks), ``topics``
(/topics picker), ``digests`` (/digest, "More"), ``related`` (/related, story buttons),
``breaking`` (/breaking with preview, Send/Cancel), ``stats`` (/stats), ``membership``
(my_chat_member), ``groups`` (a group's /start and /help, the supergroup upgrade),
``channels`` (/channels, adding a channel) and ``channel_screen`` (a channel's settings),
``target`` (which subscription an update reads or changes, and whether its sender may),
``rights`` (group and channel administrators, as Telegram says), and ``replies`` (how
every answer is sent or edited, the admin check, the "out of date" answer to a stale
button).

Buttons are registered in ``bot.app`` by ``digest.callbacks`` format; each handler decodes
its data with that module and looks the ids up before use.
"""
