"""What customers read, in Greek and English: the survey questions of service.md §3, the score
labels, the mails and the survey page."""

from __future__ import annotations

from typing import Final

LOCALES: Final = ("el", "en")

# question → (lowest score, highest score)
SCALES: Final[dict[str, tuple[int, int]]] = {"csat": (1, 5), "ces": (1, 7), "nps": (0, 10), "review": (1, 5)}

QUESTIONS: Final[dict[str, dict[str, str]]] = {
    "csat": {
        "el": "Πόσο ικανοποιημένοι είστε από τον τρόπο που χειριστήκαμε το αίτημά σας;",
        "en": "How satisfied are you with how we handled your request?",
    },
    "ces": {
        "el": "Πόσο εύκολο ήταν να λυθεί το θέμα σας;",
        "en": "How easy was it to solve your problem?",
    },
    "nps": {
        "el": "Πόσο πιθανό είναι να μας προτείνετε σε φίλο ή συνάδελφο;",
        "en": "How likely are you to recommend us?",
    },
    "review": {
        "el": "Πώς σας φάνηκε το προϊόν;",
        "en": "How do you like the product?",
    },
}

# question → locale → (label of the lowest score, label of the highest score)
ENDS: Final[dict[str, dict[str, tuple[str, str]]]] = {
    "csat": {"el": ("Καθόλου ικανοποιημένος", "Πολύ ικανοποιημένος"), "en": ("Very dissatisfied", "Very satisfied")},
    "ces": {"el": ("Πολύ δύσκολο", "Πολύ εύκολο"), "en": ("Very difficult", "Very easy")},
    "nps": {"el": ("Καθόλου πιθανό", "Εξαιρετικά πιθανό"), "en": ("Not at all likely", "Extremely likely")},
    "review": {"el": ("1 αστέρι", "5 αστέρια"), "en": ("1 star", "5 stars")},
}

UI: Final[dict[str, dict[str, str]]] = {
    "el": {
        "subject_case": "Πώς τα πήγαμε; [#{number}]",
        "subject_nps": "Μια ερώτηση για την παραγγελία σας",
        "subject_review": "Πείτε μας τη γνώμη σας για τα προϊόντα σας",
        "hello": "Γεια σας {name},",
        "intro_case": "το αίτημά σας #{number} επιλύθηκε. Θα θέλατε να μας πείτε πώς τα πήγαμε; Ένα κλικ αρκεί.",
        "intro_nps": "ελπίζουμε να απολαμβάνετε την παραγγελία σας. Μια ερώτηση μόνο:",
        "intro_review": "ελπίζουμε να σας αρέσουν οι αγορές σας. Μια κριτική βοηθά άλλους πελάτες να διαλέξουν:",
        "choose": "Επιλέξτε μια βαθμολογία:",
        "expires": "Οι σύνδεσμοι ισχύουν έως {date}. Η απάντηση καταγράφεται μόνο όταν πατήσετε «Αποστολή».",
        "thanks_sign": "Σας ευχαριστούμε!",
        "score": "Βαθμολογία",
        "comment": "Θέλετε να μας πείτε κάτι ακόμα; (προαιρετικό)",
        "title": "Τίτλος (προαιρετικό)",
        "body": "Η κριτική σας",
        "send": "Αποστολή",
        "note": "Τίποτα δεν καταγράφεται μέχρι να πατήσετε «Αποστολή».",
        "thanks": "Ευχαριστούμε για την απάντησή σας!",
        "thanks_review": "Ευχαριστούμε! Η κριτική σας θα δημοσιευτεί μόλις ελεγχθεί.",
        "follow_up": "Λυπούμαστε που δεν μείνατε ικανοποιημένοι. Θα σας καλέσουμε μέσα σε 24 ώρες.",
        "one_more": "Μία ακόμη ερώτηση:",
        "already": "Έχουμε ήδη την απάντησή σας σε αυτή την ερώτηση. Ευχαριστούμε!",
        "expired": "Αυτός ο σύνδεσμος έληξε. Αν θέλετε να μας πείτε κάτι, απαντήστε στο μήνυμά μας.",
        "invalid": "Αυτός ο σύνδεσμος δεν είναι έγκυρος (ίσως αντιγράφηκε μισός). Ανοίξτε τον ξανά από το μήνυμά μας.",
        "unknown": "Δεν βρήκαμε αυτή την έρευνα.",
        "pick_score": "Επιλέξτε μια βαθμολογία από {low} έως {high}.",
        "too_long": "Το κείμενο είναι πολύ μεγάλο (έως {max} χαρακτήρες).",
        "need_body": "Γράψτε λίγα λόγια για το προϊόν.",
        "slow_down": "Πάρα πολλές αιτήσεις. Δοκιμάστε ξανά σε {seconds} δευτερόλεπτα.",
        "case": "Αίτημα #{number}",
        "product": "Προϊόν: {name}",
        "title_page": "Η γνώμη σας",
    },
    "en": {
        "subject_case": "How did we do? [#{number}]",
        "subject_nps": "One question about your order",
        "subject_review": "Tell us what you think of your products",
        "hello": "Hello {name},",
        "intro_case": "your request #{number} was resolved. Would you tell us how we did? One click is enough.",
        "intro_nps": "we hope you are enjoying your order. Just one question:",
        "intro_review": "we hope you like what you bought. A review helps other customers choose:",
        "choose": "Choose a score:",
        "expires": "The links work until {date}. Your answer is recorded only when you press “Send”.",
        "thanks_sign": "Thank you!",
        "score": "Score",
        "comment": "Anything else you would like to tell us? (optional)",
        "title": "Title (optional)",
        "body": "Your review",
        "send": "Send",
        "note": "Nothing is recorded until you press “Send”.",
        "thanks": "Thank you for your answer!",
        "thanks_review": "Thank you! Your review will appear once it has been checked.",
        "follow_up": "We are sorry you were not satisfied. We will call you within 24 hours.",
        "one_more": "One more question:",
        "already": "We already have your answer to this question. Thank you!",
        "expired": "This link has expired. If you would like to tell us something, reply to our mail.",
        "invalid": "This link is not valid (perhaps only part of it was copied). Open it again from our mail.",
        "unknown": "We could not find this survey.",
        "pick_score": "Choose a score from {low} to {high}.",
        "too_long": "The text is too long (at most {max} characters).",
        "need_body": "Write a few words about the product.",
        "slow_down": "Too many requests. Try again in {seconds} seconds.",
        "case": "Request #{number}",
        "product": "Product: {name}",
        "title_page": "Your opinion",
    },
}


def locale_of(value: str | None) -> str:
    return value if value in LOCALES else "el"


def ui(locale: str, key: str, **values: object) -> str:
    return UI[locale_of(locale)][key].format(**values)


def question_of(item: str) -> str:
    """`csat` → `csat`; `review:<sku>` → `review`."""
    return item.split(":", 1)[0]


def score_label(question: str, locale: str, score: int) -> str:
    """`1 — Very dissatisfied`, `3`, `5 — Very satisfied`: the ends named, the middle numbered."""
    low, high = SCALES[question]
    ends = ENDS[question][locale_of(locale)]
    if score == low:
        return f"{score} — {ends[0]}"
    if score == high:
        return f"{score} — {ends[1]}"
    return str(score)
