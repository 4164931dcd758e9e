"""Quote and signature stripping, HTML to text and sanitising."""

from __future__ import annotations

import pytest

from plugins.contact_email.html import html_to_text, sanitise
from plugins.contact_email.quotes import split_reply, strip_quotes, unflow


@pytest.mark.parametrize(
    ("text", "new"),
    [
        ("Thanks!\n\nOn Mon, 11 Mar 2024, 09:00 Support <s@e.test> wrote:\n> old\n", "Thanks!"),
        ("Thanks!\n\nOn Mon, 11 Mar 2024 at 09:00, Support <\ns@e.test> wrote:\n> old\n", "Thanks!"),
        (
            "Ευχαριστώ!\n\nΣτις Δευ, 11 Μαρ 2024 στις 9:00 π.μ., ο/η Support <\ns@e.test>\nέγραψε:\n> παλιό",
            "Ευχαριστώ!",
        ),
        ("Ναι.\n\nΟ/Η Support έγραψε:\n> παλιό\n", "Ναι."),
        ("OK\n\nFrom: Support\nSent: Monday\nTo: me\nSubject: x\n\nold text\n", "OK"),
        ("Εντάξει\n\nΑπό: Support\nΣτάλθηκε: Δευτέρα\nΠρος: εγώ\nΘέμα: x\n\nπαλιό κείμενο\n", "Εντάξει"),
        ("Yes\n\nFrom: Support <s@e.test>\nDate: Monday, 11 March 2024\nTo: me\nSubject: x\n\nold\n", "Yes"),
        ("Yes\n-----Original Message-----\nold\n", "Yes"),
        ("Ναι\n-----Αρχικό μήνυμα-----\nπαλιό\n", "Ναι"),
        ("Ναι\n\n-------- Προωθημένο μήνυμα --------\nπαλιό\n", "Ναι"),
        ("See below\n\nBegin forwarded message:\n\nFrom: x\n", "See below"),
        ("Hi\n\nSent from my iPad\n", "Hi"),
        ("Γεια\n\nΣτάλθηκε από το κινητό μου\n", "Γεια"),
        ("Hi\n\nGet Outlook for iOS<https://aka.ms/o0ukef>\n", "Hi"),
        ("Answer\n\n-- \nSig line\n\n> quoted after sig\n", "Answer"),
        ("> q1\n>> q2\nmine\n> q3\nalso mine\n", "mine\nalso mine"),
        ("My sister wrote:\nthat the parcel is lost.\n", "My sister wrote:\nthat the parcel is lost."),
        (
            "Στείλτε το:\nΑπό: Αθήνα\nΠρος: Πάτρα\nΗμερομηνία: 12/3\n",
            "Στείλτε το:\nΑπό: Αθήνα\nΠρος: Πάτρα\nΗμερομηνία: 12/3",
        ),
        (
            "Στις 5 Μαρτίου παρήγγειλα.\nΗ μητέρα μου έγραψε:\nδεν ήρθε\n",
            "Στις 5 Μαρτίου παρήγγειλα.\nΗ μητέρα μου έγραψε:\nδεν ήρθε",
        ),
        ("> everything\n> is quoted\n", "> everything\n> is quoted"),
        ("", ""),
    ],
)
def test_strip_quotes(text: str, new: str) -> None:
    assert strip_quotes(text) == new


def test_history_excludes_the_customers_signature() -> None:
    reply = split_reply("Mine ORD-1\n-- \nPhone 2101234567\n\nOn Mon, X wrote:\n> ours ORD-2\n")
    assert reply.new == "Mine ORD-1"
    assert "2101234567" not in reply.history
    assert "ours ORD-2" in reply.history


def test_unflow() -> None:
    flowed = "a long \nline\n> quoted \n> more\n>> deeper\n -- stuffed\n-- \nsig"
    assert unflow(flowed, delsp=False) == "a long line\n> quoted more\n>> deeper\n-- stuffed\n-- \nsig"
    assert unflow("joined \nword", delsp=True) == "joinedword"


def test_html_to_text() -> None:
    html = (
        "<html><head><title>T</title><style>p{}</style></head><body><p>One&nbsp;&amp; two</p>"
        "<ul><li>a</li><li>b</li></ul><blockquote><p>quoted</p><blockquote>deeper</blockquote></blockquote>"
        "<pre>  keep\n  spaces</pre><script>bad()</script></body></html>"
    )
    text = html_to_text(html)
    assert "One & two" in text
    assert "- a\n- b" in text
    assert "> quoted" in text and "> > deeper" in text
    assert "  keep\n  spaces" in text
    assert "bad()" not in text and "T" not in text.split("\n")[0]


def test_html_to_text_unclosed_head() -> None:
    assert "body text" in html_to_text("<html><head><title>T</title><meta charset=utf-8><body>body text</body>")


def test_sanitise() -> None:
    html = (
        '<p onclick="x()" style="color:red;position:absolute;background:url(javascript:x)">hi</p>'
        '<a href="javascript:alert(1)">j</a><a href="https://ok.example/">ok</a><img src="data:image/png;base64,AAAA">'
        '<img src="cid:part1@x"><img src="/relative.png"><svg><script>x</script></svg><object data="x">o</object>'
    )
    clean = sanitise(html)
    assert "onclick" not in clean and "javascript" not in clean and "position" not in clean
    assert "data:" not in clean and "/relative.png" not in clean and "<svg" not in clean and "<object" not in clean
    assert 'href="https://ok.example/"' in clean and 'src="cid:part1@x"' in clean and "color:red" in clean
