"""The bot's commands, once: each with its menu line and one /help example, per chat kind
(private chats, groups: everyone and administrators, the bot's admins). The menus and
/help texts are built from these in :mod:`bot.command_menus`.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.i18n import N_


@dataclass(frozen=True, slots=True)
class Command:
    """One command: its menu line and its /help line (an example and what it does)."""

    name: str
    menu: str  # the menu's description (≤ 256 characters)
    example: str  # the command as a reader would type it (its words translated)
    explains: str  # what the example does


# TRANSLATORS: in the examples keep the command (/time, /include...) and the digits and
# time formats as they are; words (cities, keywords) may be ones your readers would use.
PRIVATE = (
    Command(
        "start",
        N_("Subscribe to the digest"),
        "/start",
        N_("subscribe; you get one digest a day, then choose your time zone and topics"),
    ),
    Command(
        "settings",
        N_("Every setting, with buttons"),
        "/settings",
        N_("every setting on one screen: tap one to change it"),
    ),
    Command(
        "topics",
        N_("Choose your topics"),
        "/topics",
        N_("tap the topics you want (none chosen = every story)"),
    ),
    Command(
        "digest",
        N_("What is new for you, now"),
        "/digest",
        N_("what is new for you right now, without waiting for the next digest"),
    ),
    Command(
        "related",
        N_("Other coverage of a story: /related <link or words>"),
        N_("/related facial recognition"),
        N_("other coverage of a story: send a few words or a stored article's link"),
    ),
    Command(
        "following",
        N_("Stories you follow (🔔), with unfollow buttons"),
        "/following",
        N_("the stories you follow (🔔 Follow on a story card), a button to unfollow each"),
    ),
    Command(
        "time",
        N_("When digests come: /time 07:30 19:00, /time weekdays 7:30"),
        N_("/time 07:30 19:00"),
        N_(
            "a digest at 07:30 and one at 19:00 (up to 4 a day; /time weekdays 7:30 "
            "for Monday to Friday)"
        ),
    ),
    Command(
        "timezone",
        N_("Your time zone: /timezone berlin"),
        N_("/timezone berlin"),
        N_("your time zone, by a city, a zone name (Europe/Berlin) or JST"),
    ),
    Command(
        "include",
        N_('Only stories with these words: /include word "a phrase"'),
        N_('/include climate "interest rates"'),
        N_("only stories that mention climate or “interest rates”"),
    ),
    Command(
        "exclude",
        N_("Never stories with these words: /exclude word"),
        N_("/exclude football"),
        N_("never a story that mentions football"),
    ),
    Command(
        "keywords",
        N_("Your keywords, with remove buttons"),
        "/keywords",
        N_("your keywords, a button to remove each"),
    ),
    Command(
        "sources",
        N_("Sources you muted"),
        "/sources",
        N_("the sources you muted (🔇 under a digest mutes one), a button to unmute each"),
    ),
    Command(
        "quiet",
        N_("Quiet hours for breaking news: /quiet 22:00-07:00"),
        N_("/quiet 22:00-07:00"),
        N_("breaking news arrives silently at night (/quiet hold: it waits till morning)"),
    ),
    Command(
        "pause",
        N_("No digests for a while: /pause 7d or /pause 2027-01-10"),
        N_("/pause 7d"),
        N_("no digests for 7 days (or until a date: /pause 2027-01-10)"),
    ),
    Command("resume", N_("End a pause"), "/resume", N_("end a pause now")),
    Command(
        "channels",
        N_("Digests in a channel you run"),
        "/channels",
        N_("digests in a channel you run, each with all these settings"),
    ),
    Command(
        "language",
        N_("The bot's language"),
        "/language",
        N_("the language I write in (English, Русский, Deutsch, Español)"),
    ),
    Command(
        "stop",
        N_("Unsubscribe"),
        "/stop",
        N_("unsubscribe (/start brings you back with the same settings)"),
    ),
    Command("help", N_("What I can do"), "/help", N_("this message")),
)
GROUP_EVERYONE = (
    Command("digest", N_("What is new, now"), "/digest", N_("what is new, right now")),
    Command(
        "related",
        N_("Other coverage of a story: /related <link or words>"),
        N_("/related facial recognition"),
        N_("other coverage of a story: send a few words or a stored article's link"),
    ),
    Command(
        "following",
        N_("Stories the group follows (admins follow and unfollow)"),
        "/following",
        N_("the stories this group follows (administrators tap 🔔 Follow on a story card)"),
    ),
    Command(
        "settings",
        N_("This group's settings"),
        "/settings",
        N_("this group's settings (administrators change them with the buttons)"),
    ),
    Command(
        "keywords",
        N_("The group's keyword filters"),
        "/keywords",
        N_("the group's keyword filters"),
    ),
    Command(
        "sources", N_("Sources the group muted"), "/sources", N_("the sources the group muted")
    ),
    Command("help", N_("What I can do here"), "/help", N_("this message")),
)
GROUP_ADMINS = (
    Command(
        "start",
        N_("Admins: subscribe this group (in a forum: to this topic)"),
        "/start",
        N_("subscribe this group (in a forum: to the topic you send it in)"),
    ),
    Command(
        "topics",
        N_("Admins: choose the group's topics"),
        "/topics",
        N_("choose the topics (none chosen = everything)"),
    ),
    Command(
        "time",
        N_("Admins: when digests come: /time 07:30 19:00"),
        N_("/time 07:30 19:00"),
        N_("a digest at 07:30 and one at 19:00 (up to 4 a day; /time weekdays 7:30)"),
    ),
    Command(
        "timezone",
        N_("Admins: the group's time zone: /timezone berlin"),
        N_("/timezone berlin"),
        N_("the group's time zone, by a city, a zone name (Europe/Berlin) or JST"),
    ),
    Command(
        "include",
        N_('Admins: only stories with these words: /include word "a phrase"'),
        N_('/include climate "interest rates"'),
        N_("only stories that mention climate or “interest rates”"),
    ),
    Command(
        "exclude",
        N_("Admins: never stories with these words: /exclude word"),
        N_("/exclude football"),
        N_("never a story that mentions football"),
    ),
    Command(
        "quiet",
        N_("Admins: quiet hours for breaking news: /quiet 22:00-07:00"),
        N_("/quiet 22:00-07:00"),
        N_("breaking news arrives silently at night"),
    ),
    Command(
        "pause",
        N_("Admins: no digests for a while: /pause 7d"),
        N_("/pause 7d"),
        N_("no digests for 7 days; /resume ends it sooner"),
    ),
    Command("resume", N_("Admins: end a pause"), "/resume", N_("end a pause now")),
    Command(
        "language",
        N_("Admins: the language of the group's digests"),
        "/language",
        N_("the language I write in here"),
    ),
    Command(
        "stop",
        N_("Admins: no more digests here"),
        "/stop",
        N_("no more digests (/start brings them back with the same settings)"),
    ),
)
ADMIN = (
    Command("breaking", N_("Push an item now: /breaking <link or text>"),
            N_("/breaking https://example.com/story"),
            N_("push a stored article (or any text) to its readers now, after a preview")),
    Command("stats", N_("Readers, groups, channels, articles, outbox, last scan"), "/stats",
            N_("readers, groups, channels, articles, outbox, last scan")),
)  # fmt: skip
