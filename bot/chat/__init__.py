"""Chat handlers, one module per feature: what readers and admins meet in Telegram.

``readers`` (/start and its zone question, /stop, /help, fallbacks), ``topics`` (the one
topic picker: /topics, the settings screen, a channel's), ``digests`` (/digest, "More"),
``related`` (/related, old digests' 🔗 buttons), ``stories`` (a digest entry's story card:
open in place, Back, "Why this?"), ``votes`` (👍/👎 on a card), ``following`` (🔔 / 🔕,
/following), ``breaking`` (/breaking with preview, Send/Cancel), ``stats`` (/stats),
``membership`` (my_chat_member), ``groups`` (a group's /start and /help, the supergroup
upgrade), ``channels`` (/channels, adding a channel).

The settings: ``settings_menu`` (the /settings home screen of any subscription, a
channel's with Stop and Resume), one module per screen and its commands (``cadence``:
/time, /pause, /resume; ``zones``: /timezone, a shared location; ``keywords``: /include,
/exclude, /keywords; ``sources``: /sources and the mute menu under a digest; ``quiet``;
``shape``), ``prompts`` (a screen's ForceReply question and its typed answer) and
``screens`` (how a screen is shown). ``target`` decides which subscription an update reads
or changes and whether its sender may, ``rights`` who administers a group or channel, as
Telegram says, and ``replies`` how every answer is sent or edited.

Buttons are registered in ``bot.app`` by callback-data format (``digest.callbacks``); each
handler decodes its data there and looks the ids up before use.
"""
