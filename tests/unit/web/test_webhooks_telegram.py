"""Telegram Bot API updates, as the Bot API documents them, map to contract events that pass
the contract's validation: channel posts, comments in the discussion group, reactions; a
post seen twice (itself and its forward into the group) counts once; what maps to nothing
says why."""

from __future__ import annotations

from typing import Any

import orjson

from smm_pulse.config import TelegramWebhook
from smm_pulse.streams.events import Declared, parse_message
from smm_pulse.web.webhook_telegram import telegram_events

CHANNEL = -1_001_987_654_321
GROUP = -1_002_123_456_789
HOOK = TelegramWebhook(brand="acme", channel_id=CHANNEL, secret_token="tg-secret",
                       account="acme_news")
NOW = 1_733_600_000.0
CHANNEL_CHAT = {"id": CHANNEL, "title": "Acme News", "username": "acme_news", "type": "channel"}
GROUP_CHAT = {"id": GROUP, "title": "Acme News Chat", "type": "supergroup"}
USER = {"id": 512_334_901, "is_bot": False, "first_name": "Ольга", "language_code": "ru"}

CHANNEL_POST = {"update_id": 871_200_001, "channel_post": {
    "message_id": 342, "sender_chat": CHANNEL_CHAT, "chat": CHANNEL_CHAT,
    "date": 1_733_599_000, "text": "Скидки до 30% на всё до воскресенья"}}
FORWARD = {"message_id": 1205, "from": {"id": 777_000, "is_bot": False,
                                        "first_name": "Telegram"},
           "sender_chat": CHANNEL_CHAT, "chat": GROUP_CHAT, "date": 1_733_599_002,
           "is_automatic_forward": True,
           "forward_origin": {"type": "channel", "chat": CHANNEL_CHAT, "message_id": 342,
                              "date": 1_733_599_000},
           "forward_from_chat": CHANNEL_CHAT, "forward_from_message_id": 342,
           "forward_date": 1_733_599_000, "text": "Скидки до 30% на всё до воскресенья"}
COMMENT = {"update_id": 871_200_003, "message": {
    "message_id": 1206, "from": USER, "chat": GROUP_CHAT, "date": 1_733_599_300,
    "message_thread_id": 1205, "reply_to_message": FORWARD,
    "text": "А в Казани тоже действует?"}}
CHANNEL_REPLY = {"update_id": 871_200_004, "message": {
    "message_id": 1207, "from": {"id": 136_817_688, "is_bot": True, "first_name": "Channel",
                                 "username": "Channel_Bot"},
    "sender_chat": CHANNEL_CHAT, "chat": GROUP_CHAT, "date": 1_733_599_500,
    "message_thread_id": 1205,
    "reply_to_message": COMMENT["message"], "text": "Да, во всех магазинах"}}
REACTION_COUNT = {"update_id": 871_200_005, "message_reaction_count": {
    "chat": CHANNEL_CHAT, "message_id": 342, "date": 1_733_599_700,
    "reactions": [{"type": {"type": "emoji", "emoji": "👍"}, "total_count": 14},
                  {"type": {"type": "emoji", "emoji": "🔥"}, "total_count": 3}]}}


def reaction(old: list[str], new: list[str]) -> dict[str, Any]:
    return {"update_id": 871_200_006, "message_reaction": {
        "chat": GROUP_CHAT, "message_id": 1206, "user": USER, "date": 1_733_599_800,
        "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
        "new_reaction": [{"type": "emoji", "emoji": e} for e in new]}}


def valid(events: list[dict[str, Any]]) -> list[Any]:
    parsed = parse_message(orjson.dumps(events), Declared({"acme"}.__contains__), NOW)
    assert parsed.rejected == []
    return parsed.accepted


def test_a_channel_post_is_the_posts_first_snapshot():
    (post,) = valid(telegram_events(CHANNEL_POST, HOOK).events)
    assert (post.account, post.post_id, post.published_at, post.likes) == (
        "acme_news", "342", 1_733_599_000, None)


def test_the_posts_automatic_forward_into_the_group_has_the_posts_event_id():
    (forwarded,) = telegram_events({"update_id": 871_200_002, "message": FORWARD}, HOOK).events
    (posted,) = telegram_events(CHANNEL_POST, HOOK).events
    assert forwarded["event_id"] == posted["event_id"] == f"telegram:{CHANNEL}:post:342"
    assert (forwarded["type"], forwarded["post_id"]) == ("post_metrics", "342")


def test_a_users_comment_is_an_incoming_message_and_a_comment_on_the_channel_post():
    message, comment = valid(telegram_events(COMMENT, HOOK).events)
    assert (message.direction, message.thread_id) == ("in", f"{GROUP}/1205")
    assert (comment.action, comment.post_id) == ("comment", "342")


def test_a_reply_on_behalf_of_the_channel_is_outgoing_in_the_same_thread():
    events = valid(telegram_events(CHANNEL_REPLY, HOOK).events)
    assert [(e.direction, e.thread_id) for e in events] == [("out", f"{GROUP}/1205")]


def test_an_anonymous_group_admins_reply_is_outgoing():
    anonymous = {"update_id": 9, "message": {**CHANNEL_REPLY["message"],
                                             "sender_chat": GROUP_CHAT}}
    (message,) = valid(telegram_events(anonymous, HOOK).events)
    assert message.direction == "out"


def test_reaction_totals_of_a_channel_post_are_a_snapshot_of_its_likes():
    (snapshot,) = valid(telegram_events(REACTION_COUNT, HOOK).events)
    assert (snapshot.post_id, snapshot.likes, snapshot.ts) == ("342", 17, 1_733_599_700)


def test_a_users_new_reaction_is_a_like_and_a_removed_one_an_unlike():
    (like,) = valid(telegram_events(reaction([], ["👍"]), HOOK).events)
    (unlike,) = valid(telegram_events(reaction(["👍"], []), HOOK).events)
    assert (like.action, like.count, like.post_id) == ("like", 1, f"{GROUP}/1206")
    assert unlike.action == "unlike"


def test_changing_a_reaction_is_a_like_and_an_unlike():
    events = valid(telegram_events(reaction(["👍"], ["❤"]), HOOK).events)
    assert sorted(e.action for e in events) == ["like", "unlike"]


def test_a_private_message_to_the_bot_is_incoming():
    update = {"update_id": 10, "message": {"message_id": 55, "from": USER,
                                           "chat": {"id": USER["id"], "type": "private",
                                                    "first_name": "Ольга"},
                                           "date": 1_733_599_900, "text": "Где мой заказ?"}}
    (message,) = valid(telegram_events(update, HOOK).events)
    assert (message.direction, message.thread_id) == ("in", f"private{USER['id']}")


def test_a_retried_update_has_the_same_event_ids():
    assert telegram_events(COMMENT, HOOK).events == telegram_events(COMMENT, HOOK).events
    assert len({e["event_id"] for e in telegram_events(COMMENT, HOOK).events}) == 2


def test_a_post_of_another_channel_maps_to_nothing():
    other = {"update_id": 11, "channel_post": {**CHANNEL_POST["channel_post"],
                                               "chat": {**CHANNEL_CHAT, "id": -100_1}}}
    mapped = telegram_events(other, HOOK)
    assert mapped.events == [] and "not of the collector's channel" in (mapped.unmapped or "")


def test_an_update_kind_without_a_mapping_says_so():
    edited = {"update_id": 12, "edited_channel_post": CHANNEL_POST["channel_post"]}
    mapped = telegram_events(edited, HOOK)
    assert mapped.events == [] and "edited_channel_post" in (mapped.unmapped or "")


def test_a_group_message_outside_any_thread_maps_to_nothing():
    chat = {"update_id": 13, "message": {"message_id": 3, "from": USER, "chat": GROUP_CHAT,
                                         "date": 1_733_599_900, "text": "всем привет"}}
    assert telegram_events(chat, HOOK).unmapped
