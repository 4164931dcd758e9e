"""The email channel's settings: what each accepts, and errors that name the variable and say
what a good value looks like."""

from __future__ import annotations

import pytest

from core.plugins import PluginHost
from core.settings import read
from plugins.contact_email import settings as mail_settings
from plugins.contact_email.settings import (
    MAIL_MAX_BYTES,
    SMTP_LISTEN,
    SMTP_URL,
    SUPPORT_ADDRESSES,
    Listen,
    SmtpServer,
)


def test_listen_takes_host_and_port() -> None:
    assert read(SMTP_LISTEN, {}) is None
    assert read(SMTP_LISTEN, {"EMPORIO_SMTP_LISTEN": "127.0.0.1:2525"}) == Listen("127.0.0.1", 2525)
    assert read(SMTP_LISTEN, {"EMPORIO_SMTP_LISTEN": "[::1]:25"}) == Listen("::1", 25)
    assert str(Listen("::1", 25)) == "[::1]:25"
    for bad in ("2525", "localhost", ":25", "host:smtp", "host:70000"):
        with pytest.raises(ValueError, match="EMPORIO_SMTP_LISTEN"):
            read(SMTP_LISTEN, {"EMPORIO_SMTP_LISTEN": bad})


def test_support_addresses_are_lower_cased_and_checked() -> None:
    raw = " Support@Emporio.test, sales@emporio.test ,support@emporio.test"
    assert read(SUPPORT_ADDRESSES, {"EMPORIO_SUPPORT_ADDRESSES": raw}) == ("support@emporio.test", "sales@emporio.test")
    with pytest.raises(ValueError, match=r"EMPORIO_SUPPORT_ADDRESSES must be mail addresses.*'support'"):
        read(SUPPORT_ADDRESSES, {"EMPORIO_SUPPORT_ADDRESSES": "support, help@shop.gr"})


def test_max_bytes_defaults_to_ten_megabytes() -> None:
    assert read(MAIL_MAX_BYTES, {}) == 10 * 1024 * 1024
    assert read(MAIL_MAX_BYTES, {"EMPORIO_MAIL_MAX_BYTES": "2048"}) == 2048
    with pytest.raises(ValueError, match="at least 1024"):
        read(MAIL_MAX_BYTES, {"EMPORIO_MAIL_MAX_BYTES": "10"})


def test_the_smtp_url_gives_server_credentials_and_tls_and_never_shows_the_password() -> None:
    server = read(SMTP_URL, {"EMPORIO_SMTP_URL": "smtp://apikey:p%40ss%3Aword@smtp.example.gr:587"})
    assert server == SmtpServer(host="smtp.example.gr", port=587, username="apikey", password="p@ss:word")
    assert "p@ss" not in repr(server)
    assert read(SMTP_URL, {"EMPORIO_SMTP_URL": "smtps://mail.example.gr"}) == SmtpServer(
        host="mail.example.gr", port=465, implicit_tls=True
    )
    assert read(SMTP_URL, {"EMPORIO_SMTP_URL": "smtp://127.0.0.1"}).port == 25  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="smtp://user:password@host:587") as bad:
        read(SMTP_URL, {"EMPORIO_SMTP_URL": "http://user:secret@host"})
    assert "secret" not in str(bad.value)


def test_the_sender_is_mail_from_else_the_first_support_address() -> None:
    assert mail_settings.sender({}) is None
    assert mail_settings.sender({"EMPORIO_SUPPORT_ADDRESSES": "a@shop.gr,b@shop.gr"}) == "a@shop.gr"
    both = {"EMPORIO_SUPPORT_ADDRESSES": "a@shop.gr", "EMPORIO_MAIL_FROM": "Shop <hi@shop.gr>"}
    assert mail_settings.sender(both) == "Shop <hi@shop.gr>"
    with pytest.raises(ValueError, match="EMPORIO_MAIL_FROM"):
        read(mail_settings.MAIL_FROM, {"EMPORIO_MAIL_FROM": "Shop"})


def test_the_plugin_declares_its_settings() -> None:
    declared = PluginHost().settings
    for spec in mail_settings.SETTINGS:
        assert declared[spec.name].plugin == "contact-email"
    assert declared["EMPORIO_SMTP_URL"].value.secret
