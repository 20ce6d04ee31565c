"""Mosquitto password and ACL files from the roster: every sender may publish only under its own
`up/{d}` (and a worker's OwnTracks app only as its own user) and read only its own `down/{d}` (and
its phone's OwnTracks commands); the platform's account reads all up-topics, writes acks, tasks,
events and OwnTracks commands.

Phones and the platform log in on separate listeners (deploy/mosquitto/mosquitto.conf), each with
its own password file: on the phones' listener a client's id is its user name, so no phone can
connect with one of the platform's client ids and take its session. Those ids, and the platform's
account, start with PLATFORM_PREFIX, which no roster id may.

The files are the writer's alone (0600): Mosquitto run by the same user reads them. Mosquitto
started as root reads them as its own user (`mosquitto`, Debian's package), so a root writer hands
them to that user (`hand_to_broker_user`). Releases newer than Debian 12's 2.0.11 warn about
password and ACL files others may read, and say later ones will refuse them."""

from __future__ import annotations

import base64
import grp
import hashlib
import os
import pwd
import re
import secrets
import stat
from collections.abc import Iterable
from pathlib import Path

from sync.topics import PREFIX

# Mosquitto reads the iteration count from each line; its own default (101) is far too low.
ITERATIONS = 20_000
INGEST_USER = "gridwatch-ingest"
# The user Mosquitto started as root runs as (its `user` setting's default, Debian's package).
BROKER_USER = "mosquitto"
BROKER_FILES = ("passwords", "platform-passwords", "acl")
PLATFORM_PREFIX = "gridwatch-"
_CLIENT_ID = re.compile(rf"{PLATFORM_PREFIX}[A-Za-z0-9._-]+")


def platform_client_id(value: str) -> str:
    """`value` if it can be a platform process's MQTT client id, else ValueError saying why."""
    if not _CLIENT_ID.fullmatch(value):
        raise ValueError(
            f"{value!r} is not a platform client id: it must start with {PLATFORM_PREFIX!r} and "
            "hold only letters, digits, '.', '_' and '-'"
        )
    return value


def password_line(user: str, password: str, salt: bytes | None = None) -> str:
    """One line of a Mosquitto 2 password file (PBKDF2-SHA512, `$7$`)."""
    salt = salt or os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, ITERATIONS)
    return f"{user}:$7${ITERATIONS}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def acl_text(ingest_user: str = INGEST_USER) -> str:
    return "\n".join(
        [
            "# Written by `gridwatch mqtt-acl`; do not edit by hand.",
            f"user {ingest_user}",
            f"topic read {PREFIX}/+/up/#",
            f"topic write {PREFIX}/+/down/#",
            f"topic readwrite {PREFIX}/+/events/#",
            "topic read owntracks/+/+",
            "topic read owntracks/+/+/event",
            "topic write owntracks/+/+/cmd",
            "",
            "# Every other account is a worker or a device, named by its id: its own topics only.",
            f"pattern write {PREFIX}/+/up/%u/+",
            f"pattern read {PREFIX}/+/down/%u/+",
            "pattern write owntracks/%u/+",
            "pattern write owntracks/%u/+/event",
            "pattern read owntracks/%u/+/cmd",
            "",
        ]
    )


def write_broker_files(
    folder: Path,
    senders: Iterable[str],
    ingest_user: str = INGEST_USER,
    ingest_password: str | None = None,
) -> dict[str, str]:
    """Write `passwords` (the phones' and cameras' listener), `platform-passwords` (the platform's
    listener), `acl` (both) and `credentials.csv` (new random passwords, for provisioning). The
    platform's account keeps `ingest_password` when one is given: the one the platform's processes
    already have in GRIDWATCH_MQTT_URL. ValueError, before anything is written, for a sender whose
    id is the platform's."""
    phones = sorted(set(senders))
    taken = [s for s in phones if s.startswith(PLATFORM_PREFIX) or s == ingest_user]
    if taken:
        raise ValueError(
            f"{', '.join(taken)}: ids starting with {PLATFORM_PREFIX!r} (or {ingest_user!r}) are the "
            "platform's broker logins and client ids; rename these workers or devices"
        )
    credentials = {user: secrets.token_urlsafe(18) for user in [ingest_user, *phones]}
    if ingest_password:
        credentials[ingest_user] = ingest_password
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("passwords", "".join(password_line(u, credentials[u]) + "\n" for u in phones)),
        ("platform-passwords", password_line(ingest_user, credentials[ingest_user]) + "\n"),
        ("acl", acl_text(ingest_user)),
        ("credentials.csv", "id,password\n" + "".join(f"{u},{p}\n" for u, p in credentials.items())),
    ):
        path = folder / name
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
    return credentials


def hand_to_broker_user(folder: Path, user: str = BROKER_USER) -> Path | None:
    """When run as root, give the folder (Mosquitto keeps its persistence there) and the broker's
    files to Mosquitto's own user and group; credentials.csv stays root's. Returns the first folder
    above that this user may not enter (then the broker cannot open its files), else None. Nothing
    to do for another user (compose runs the job as the broker's uid), or where there is no such
    user."""
    if os.geteuid() != 0:
        return None
    try:
        account = pwd.getpwnam(user)
    except KeyError:
        return None
    for path in [folder, *(folder / name for name in BROKER_FILES)]:
        os.chown(path, account.pw_uid, account.pw_gid)
    groups = {account.pw_gid, *(g.gr_gid for g in grp.getgrall() if user in g.gr_mem)}
    for parent in reversed(folder.resolve().parents):
        info = parent.stat()
        if info.st_uid == account.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid in groups:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            return parent
    return None
