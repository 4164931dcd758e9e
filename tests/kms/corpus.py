# ruff: noqa: E501 (article texts are prose, kept one translation a line)
"""A judged relevance set for the knowledge-base search: help-centre articles of a Greek shop (each in
Greek and English) and queries with the articles they must find."""

from __future__ import annotations

from typing import NamedTuple


class Article(NamedTuple):
    id: str
    el: tuple[str, str]
    en: tuple[str, str]
    visibility: str = "public"


class Judged(NamedTuple):
    query: str
    locale: str | None
    relevant: tuple[str, ...]


ARTICLES: tuple[Article, ...] = (
    Article(
        "returns-policy",
        ("Πολιτική επιστροφών", "Μπορείτε να επιστρέψετε οποιοδήποτε προϊόν μέσα σε **14 ημέρες** από την παραλαβή του, χωρίς να δώσετε εξηγήσεις. Το προϊόν πρέπει να είναι αχρησιμοποίητο, στην αρχική του συσκευασία και με τις ετικέτες του. Εξαιρούνται τα εσώρουχα, τα μαγιό και τα εξατομικευμένα προϊόντα. Τα έξοδα επιστροφής βαραίνουν τον πελάτη, εκτός αν το προϊόν είναι ελαττωματικό."),
        ("Returns policy", "You can return any item within **14 days** of receiving it, no questions asked. The item must be unused, in its original packaging and with its tags. Underwear, swimwear and personalised items cannot be returned. Return shipping is paid by the customer unless the item is faulty."),
    ),
    Article(
        "return-how",
        ("Πώς κάνω επιστροφή προϊόντος", "1. Συνδεθείτε στον λογαριασμό σας και ανοίξτε τις *Παραγγελίες μου*.\n2. Επιλέξτε την παραγγελία και πατήστε **Αίτημα επιστροφής**.\n3. Διαλέξτε τα προϊόντα και τον λόγο της επιστροφής.\n4. Εκτυπώστε την ετικέτα επιστροφής και παραδώστε το δέμα σε κατάστημα ACS ή σε θυρίδα BOX NOW.\n\nΘα λάβετε email μόλις παραλάβουμε το δέμα στην αποθήκη μας."),
        ("How to return an item", "1. Sign in to your account and open *My orders*.\n2. Choose the order and press **Request a return**.\n3. Pick the items and the reason for the return.\n4. Print the return label and hand the parcel in at an ACS store or a BOX NOW locker.\n\nYou will get an email once the parcel reaches our warehouse."),
    ),
    Article(
        "refund-timing",
        ("Πότε θα γίνει η επιστροφή χρημάτων;", "Η επιστροφή των χρημάτων γίνεται μέσα σε **5 εργάσιμες ημέρες** από τη στιγμή που το προϊόν θα φτάσει στην αποθήκη μας και θα ελεγχθεί. Τα χρήματα επιστρέφονται με τον ίδιο τρόπο πληρωμής: στην κάρτα σας, στο PayPal ή με τραπεζική μεταφορά. Η πίστωση στην κάρτα μπορεί να καθυστερήσει μερικές ημέρες ακόμη, ανάλογα με την τράπεζά σας."),
        ("When will I get my refund?", "Your refund is issued within **5 working days** after the item reaches our warehouse and is inspected. The money goes back to the original payment method: your card, PayPal or bank transfer. Your bank may take a few more days to show the credit on your card statement."),
    ),
    Article(
        "refund-cod",
        ("Επιστροφή χρημάτων για παραγγελίες με αντικαταβολή", "Αν πληρώσατε με αντικαταβολή, δεν μπορούμε να επιστρέψουμε τα χρήματα σε μετρητά. Συμπληρώστε στο αίτημα επιστροφής το **IBAN** σας και το ονοματεπώνυμο του δικαιούχου και θα κάνουμε τραπεζική κατάθεση μέσα σε 5 εργάσιμες. Τα έξοδα αντικαταβολής δεν επιστρέφονται."),
        ("Refunds for cash on delivery orders", "If you paid cash on delivery, we cannot refund you in cash. Enter your **IBAN** and the account holder's name in the return request and we will send a bank transfer within 5 working days. The cash on delivery fee is not refundable."),
    ),
    Article(
        "exchange",
        ("Αλλαγή μεγέθους ή χρώματος", "Θέλετε άλλο νούμερο ή χρώμα; Κάντε αίτημα επιστροφής και επιλέξτε **Αλλαγή** αντί για επιστροφή χρημάτων. Μόλις παραλάβουμε το προϊόν, σας στέλνουμε το νέο μέγεθος χωρίς επιπλέον μεταφορικά. Αν το νέο μέγεθος δεν είναι διαθέσιμο, θα σας επιστρέψουμε τα χρήματα."),
        ("Exchanging for another size or colour", "Need a different size or colour? Make a return request and choose **Exchange** instead of a refund. Once we receive the item we send you the new size with no extra shipping cost. If the size you want is out of stock we refund you instead."),
    ),
    Article(
        "damaged",
        ("Το προϊόν έφτασε χαλασμένο ή ελαττωματικό", "Λυπούμαστε πολύ! Φωτογραφίστε το προϊόν και τη συσκευασία και στείλτε μας τις φωτογραφίες μέσα σε 48 ώρες από την παραλαβή, από τη φόρμα επικοινωνίας. Θα στείλουμε δωρεάν κούριερ να παραλάβει το προϊόν και θα σας στείλουμε αντικατάσταση ή θα σας επιστρέψουμε όλα τα χρήματα, μαζί με τα μεταφορικά."),
        ("My item arrived damaged or faulty", "We are very sorry! Take photos of the item and the packaging and send them to us through the contact form within 48 hours of delivery. We will send a courier to collect it free of charge and ship a replacement or give you a full refund, shipping included."),
    ),
    Article(
        "wrong-item",
        ("Έλαβα λάθος προϊόν", "Αν στο δέμα βρήκατε διαφορετικό προϊόν από αυτό που παραγγείλατε, μην το χρησιμοποιήσετε. Επικοινωνήστε μαζί μας με τον αριθμό παραγγελίας και μια φωτογραφία του προϊόντος. Θα οργανώσουμε δωρεάν την ανταλλαγή με το σωστό προϊόν."),
        ("I received the wrong item", "If the parcel contains a different product from the one you ordered, please do not use it. Contact us with your order number and a photo of the item. We will arrange a free swap for the right product."),
    ),
    Article(
        "missing-item",
        ("Λείπει προϊόν από το δέμα", "Μερικές φορές μια παραγγελία αποστέλλεται σε περισσότερα από ένα δέματα. Ελέγξτε στο email αποστολής αν υπάρχει δεύτερος αριθμός αποστολής. Αν όλα τα δέματα έχουν παραδοθεί και κάτι λείπει, ενημερώστε μας μέσα σε 7 ημέρες για να το ερευνήσουμε."),
        ("An item is missing from my parcel", "Sometimes an order ships in more than one parcel. Check the dispatch email for a second tracking number. If every parcel has been delivered and something is still missing, tell us within 7 days so we can investigate."),
    ),
    Article(
        "order-tracking",
        ("Πού είναι η παραγγελία μου;", "Μόλις η παραγγελία σας φύγει από την αποθήκη, θα λάβετε email και SMS με τον **αριθμό αποστολής** (tracking). Με αυτόν μπορείτε να δείτε σε ποιο σημείο βρίσκεται το δέμα σας στη σελίδα της εταιρείας κούριερ. Μπορείτε επίσης να δείτε την κατάσταση της παραγγελίας στον λογαριασμό σας, στις *Παραγγελίες μου*."),
        ("Where is my order?", "As soon as your order leaves our warehouse you get an email and a text message with the **tracking number**. Use it on the courier's website to see where your parcel is. You can also follow the order status in your account under *My orders*."),
    ),
    Article(
        "delivery-times",
        ("Χρόνοι παράδοσης", "Οι παραγγελίες που ολοκληρώνονται έως τις 15:00 τις εργάσιμες αποστέλλονται την ίδια ημέρα. Η παράδοση γίνεται σε 1-2 εργάσιμες ημέρες στην Αθήνα και τη Θεσσαλονίκη και σε 2-4 εργάσιμες στην υπόλοιπη Ελλάδα. Τα Σάββατα και τις αργίες δεν γίνονται παραδόσεις."),
        ("Delivery times", "Orders placed by 3pm on a working day are dispatched the same day. Delivery takes 1-2 working days in Athens and Thessaloniki and 2-4 working days elsewhere in Greece. There are no deliveries on Saturdays or public holidays."),
    ),
    Article(
        "shipping-costs",
        ("Κόστος αποστολής και δωρεάν μεταφορικά", "Τα μεταφορικά κοστίζουν 3,50 € για αποστολή στο σπίτι και 2 € για παραλαβή από θυρίδα. Για παραγγελίες άνω των 40 € τα μεταφορικά είναι **δωρεάν**. Το κόστος αποστολής εμφανίζεται στο καλάθι πριν ολοκληρώσετε την αγορά."),
        ("Shipping costs and free shipping", "Shipping costs €3.50 for home delivery and €2 for locker pickup. Orders over €40 ship **free**. The shipping cost is shown in your basket before you check out."),
    ),
    Article(
        "islands",
        ("Αποστολές στα νησιά και σε δυσπρόσιτες περιοχές", "Στα νησιά και στις δυσπρόσιτες περιοχές η παράδοση μπορεί να χρειαστεί 1-3 επιπλέον ημέρες, ανάλογα με τα δρομολόγια των πλοίων. Η εταιρεία κούριερ μπορεί να προσθέσει χρέωση δυσπρόσιτης περιοχής, την οποία θα δείτε στο καλάθι."),
        ("Delivery to the islands and remote areas", "Deliveries to the islands and remote areas may take 1-3 extra days depending on ferry schedules. The courier may add a remote area surcharge, which you will see in your basket."),
    ),
    Article(
        "lockers",
        ("Παραλαβή από θυρίδα BOX NOW", "Στο ταμείο επιλέξτε **Παραλαβή από θυρίδα** και διαλέξτε το αυτόματο μηχάνημα που σας βολεύει στον χάρτη. Όταν το δέμα φτάσει, θα λάβετε SMS με τον κωδικό PIN για να ανοίξετε τη θυρίδα. Έχετε 3 ημέρες για να το παραλάβετε, αλλιώς επιστρέφει σε εμάς. Η πληρωμή με αντικαταβολή δεν είναι διαθέσιμη για θυρίδες."),
        ("Collecting from a BOX NOW parcel locker", "At checkout choose **Locker pickup** and pick the parcel locker that suits you on the map. When the parcel arrives you get a text with the PIN code to open the locker. You have 3 days to collect it, otherwise it comes back to us. Cash on delivery is not available for lockers."),
    ),
    Article(
        "store-pickup",
        ("Παραλαβή από το κατάστημα", "Μπορείτε να παραγγείλετε online και να παραλάβετε δωρεάν από ένα από τα καταστήματά μας σε Αθήνα και Θεσσαλονίκη. Θα σας ειδοποιήσουμε με SMS όταν η παραγγελία είναι έτοιμη. Φέρτε μαζί σας την ταυτότητά σας και τον αριθμό παραγγελίας. Η παραγγελία κρατιέται για 7 ημέρες."),
        ("Click and collect in store", "Order online and collect for free from one of our shops in Athens and Thessaloniki. We will text you when your order is ready. Bring your ID and your order number. We hold the order for 7 days."),
    ),
    Article(
        "courier-missed",
        ("Ο κούριερ δεν με βρήκε στο σπίτι", "Αν ο κούριερ δεν σας βρει, θα αφήσει ειδοποίηση και θα προσπαθήσει ξανά την επόμενη εργάσιμη. Μπορείτε επίσης να κανονίσετε νέα ημερομηνία παράδοσης ή να παραλάβετε το δέμα από το κοντινότερο κατάστημα ACS, με τον αριθμό αποστολής. Μετά από δύο αποτυχημένες προσπάθειες το δέμα επιστρέφει σε εμάς."),
        ("I missed the courier", "If the courier misses you, they leave a notice and try again the next working day. You can also arrange a new delivery date or pick the parcel up from the nearest ACS branch with your tracking number. After two failed attempts the parcel is returned to us."),
    ),
    Article(
        "change-address",
        ("Αλλαγή διεύθυνσης αποστολής", "Μπορείτε να αλλάξετε τη διεύθυνση παράδοσης όσο η παραγγελία βρίσκεται σε κατάσταση *Σε επεξεργασία*, από τις *Παραγγελίες μου*. Αν η παραγγελία έχει ήδη αποσταλεί, επικοινωνήστε με την εταιρεία κούριερ με τον αριθμό αποστολής για αλλαγή διεύθυνσης."),
        ("Changing the delivery address", "You can change the delivery address while the order is still *Processing*, from *My orders*. If the order has already shipped, contact the courier with your tracking number to redirect the parcel."),
    ),
    Article(
        "cancel-order",
        ("Ακύρωση παραγγελίας", "Μπορείτε να ακυρώσετε μια παραγγελία από τις *Παραγγελίες μου* πατώντας **Ακύρωση**, όσο δεν έχει αποσταλεί. Αν πληρώσατε με κάρτα, η δέσμευση του ποσού αποδεσμεύεται αυτόματα σε 1-3 εργάσιμες. Αν η παραγγελία έχει ήδη φύγει, αρνηθείτε την παραλαβή ή κάντε επιστροφή."),
        ("Cancelling an order", "You can cancel an order from *My orders* with the **Cancel** button as long as it has not shipped. If you paid by card, the hold on your card is released automatically within 1-3 working days. If the order is already on its way, refuse the delivery or return it."),
    ),
    Article(
        "modify-order",
        ("Αλλαγή ή προσθήκη προϊόντων σε παραγγελία", "Δεν είναι δυνατό να προσθέσετε προϊόντα σε μια παραγγελία που έχει ήδη καταχωρηθεί. Μπορείτε να την ακυρώσετε και να κάνετε νέα παραγγελία με όλα τα προϊόντα, ή να κάνετε μια δεύτερη παραγγελία. Για αλλαγή ποσότητας επικοινωνήστε μαζί μας το συντομότερο."),
        ("Changing or adding items to an order", "Items cannot be added to an order that has already been placed. You can cancel it and place a new order with everything, or place a second order. To change a quantity, contact us as soon as possible."),
    ),
    Article(
        "cod",
        ("Πληρωμή με αντικαταβολή", "Με την **αντικαταβολή** πληρώνετε τον κούριερ τη στιγμή της παράδοσης, με μετρητά ή με κάρτα (POS). Η χρέωση αντικαταβολής είναι 2 € και το ανώτατο ποσό είναι 500 €. Η αντικαταβολή δεν είναι διαθέσιμη για παραλαβή από θυρίδα ή για αποστολές στο εξωτερικό."),
        ("Paying cash on delivery", "With **cash on delivery** you pay the courier when the parcel arrives, in cash or by card on their terminal. The cash on delivery fee is €2 and the maximum order is €500. Cash on delivery is not available for locker pickup or for deliveries abroad."),
    ),
    Article(
        "payment-methods",
        ("Τρόποι πληρωμής", "Δεχόμαστε πιστωτικές και χρεωστικές κάρτες Visa, Mastercard και American Express, Apple Pay, Google Pay, PayPal, IRIS, τραπεζική κατάθεση και αντικαταβολή. Όλες οι πληρωμές με κάρτα γίνονται σε ασφαλές περιβάλλον της τράπεζας με 3D Secure."),
        ("Payment methods", "We accept Visa, Mastercard and American Express credit and debit cards, Apple Pay, Google Pay, PayPal, IRIS, bank transfer and cash on delivery. Card payments are processed on the bank's secure page with 3D Secure."),
    ),
    Article(
        "card-declined",
        ("Η πληρωμή με κάρτα απορρίφθηκε", "Αν η κάρτα σας απορρίφθηκε, ελέγξτε ότι τα στοιχεία της (αριθμός, ημερομηνία λήξης, CVV) είναι σωστά και ότι υπάρχει διαθέσιμο υπόλοιπο. Βεβαιωθείτε ότι ολοκληρώσατε την επιβεβαίωση 3D Secure στην εφαρμογή της τράπεζάς σας. Αν το πρόβλημα συνεχίζεται, δοκιμάστε άλλη κάρτα ή επικοινωνήστε με την τράπεζά σας. Δεν χρεωθήκατε για απορριφθείσα πληρωμή."),
        ("My card payment was declined", "If your card was declined, check that the card details (number, expiry date, CVV) are correct and that you have enough available balance. Make sure you completed the 3D Secure approval in your banking app. If it keeps failing, try another card or call your bank. You are not charged for a declined payment."),
    ),
    Article(
        "installments",
        ("Άτοκες δόσεις", "Για αγορές άνω των 100 € μπορείτε να πληρώσετε σε έως **12 άτοκες δόσεις** με πιστωτική κάρτα ελληνικής τράπεζας. Ο αριθμός των δόσεων επιλέγεται στη σελίδα πληρωμής της τράπεζας. Οι δόσεις δεν ισχύουν για χρεωστικές και προπληρωμένες κάρτες."),
        ("Interest-free instalments", "For purchases over €100 you can pay in up to **12 interest-free instalments** with a credit card from a Greek bank. You choose the number of instalments on the bank's payment page. Instalments are not available for debit or prepaid cards."),
    ),
    Article(
        "bank-transfer",
        ("Πληρωμή με τραπεζική κατάθεση", "Επιλέξτε **Τραπεζική κατάθεση** στο ταμείο και θα λάβετε με email τους λογαριασμούς μας σε Εθνική, Πειραιώς, Eurobank και Alpha Bank. Στην αιτιολογία γράψτε τον αριθμό παραγγελίας. Η παραγγελία αποστέλλεται μόλις πιστωθεί το ποσό, συνήθως σε 1-2 εργάσιμες. Αν δεν λάβουμε την κατάθεση σε 3 ημέρες, η παραγγελία ακυρώνεται."),
        ("Paying by bank transfer", "Choose **Bank transfer** at checkout and we will email you our account details at National Bank, Piraeus, Eurobank and Alpha Bank. Put your order number in the payment reference. We ship once the money arrives, usually in 1-2 working days. If the payment has not arrived within 3 days the order is cancelled."),
    ),
    Article(
        "vouchers",
        ("Κωδικοί έκπτωσης και κουπόνια", "Πληκτρολογήστε τον κωδικό του κουπονιού στο πεδίο **Κωδικός έκπτωσης** στο καλάθι και πατήστε Εφαρμογή. Σε κάθε παραγγελία χρησιμοποιείται ένα μόνο κουπόνι. Αν ο κωδικός δεν γίνεται δεκτός, ελέγξτε την ημερομηνία λήξης και την ελάχιστη αξία παραγγελίας του κουπονιού. Τα κουπόνια δεν ισχύουν σε προϊόντα που είναι ήδη σε προσφορά."),
        ("Discount codes and vouchers", "Type your voucher code in the **Discount code** box in your basket and press Apply. One voucher can be used per order. If the code is rejected, check its expiry date and minimum order value. Vouchers do not apply to items that are already on sale."),
    ),
    Article(
        "gift-cards",
        ("Δωροκάρτες", "Οι δωροκάρτες μας κυκλοφορούν σε αξίες 20, 50 και 100 € και ισχύουν για 12 μήνες. Μπορείτε να τις χρησιμοποιήσετε σε πολλές αγορές μέχρι να εξαντληθεί το υπόλοιπο. Το υπόλοιπο της δωροκάρτας φαίνεται στον λογαριασμό σας. Οι δωροκάρτες δεν εξαργυρώνονται σε μετρητά."),
        ("Gift cards", "Our gift cards come in €20, €50 and €100 and are valid for 12 months. You can spend them over several purchases until the balance runs out. The gift card balance is shown in your account. Gift cards cannot be exchanged for cash."),
    ),
    Article(
        "invoice",
        ("Έκδοση τιμολογίου", "Αν χρειάζεστε **τιμολόγιο** αντί για απόδειξη, επιλέξτε *Τιμολόγιο* στο ταμείο και συμπληρώστε την επωνυμία, το ΑΦΜ, τη ΔΟΥ και τη διεύθυνση της εταιρείας. Το τιμολόγιο αποστέλλεται ηλεκτρονικά στο email σας μαζί με την αποστολή. Δεν μπορούμε να μετατρέψουμε απόδειξη σε τιμολόγιο μετά την έκδοσή της."),
        ("Getting an invoice for your company", "If you need a VAT **invoice** for your company instead of a receipt, choose *Invoice* at checkout and fill in the company name, VAT number (ΑΦΜ), tax office and address. The invoice is emailed to you when the order ships. A receipt cannot be turned into an invoice after it has been issued."),
    ),
    Article(
        "receipt",
        ("Απόδειξη αγοράς", "Η απόδειξη λιανικής αποστέλλεται ηλεκτρονικά στο email σας όταν φύγει η παραγγελία και βρίσκεται πάντα στις *Παραγγελίες μου*, όπου μπορείτε να την κατεβάσετε σε PDF. Κρατήστε την για την εγγύηση του προϊόντος."),
        ("Proof of purchase and receipts", "Your receipt is emailed to you when the order ships and is always available under *My orders*, where you can download it as a PDF. Keep it as proof of purchase for the warranty."),
    ),
    Article(
        "account-create",
        ("Δημιουργία λογαριασμού", "Πατήστε **Εγγραφή** πάνω δεξιά, συμπληρώστε το email σας και έναν κωδικό πρόσβασης και επιβεβαιώστε το email από τον σύνδεσμο που θα σας στείλουμε. Με λογαριασμό βλέπετε το ιστορικό παραγγελιών, αποθηκεύετε διευθύνσεις και κάνετε επιστροφές πιο γρήγορα. Μπορείτε επίσης να αγοράσετε ως επισκέπτης χωρίς εγγραφή."),
        ("Creating an account", "Press **Sign up** at the top right, enter your email and a password, and confirm your email from the link we send you. With an account you see your order history, save addresses and return items faster. You can also buy as a guest without signing up."),
    ),
    Article(
        "password-reset",
        ("Ξέχασα τον κωδικό πρόσβασης", "Πατήστε **Ξέχασα τον κωδικό μου** στη σελίδα σύνδεσης και γράψτε το email του λογαριασμού σας. Θα λάβετε σύνδεσμο για να ορίσετε νέο κωδικό, που ισχύει για 1 ώρα. Αν δεν βλέπετε το email, ελέγξτε τον φάκελο ανεπιθύμητης αλληλογραφίας (spam)."),
        ("I forgot my password", "Click **Forgot my password** on the sign-in page and enter your account email. You will receive a link to set a new password, valid for 1 hour. If the email does not arrive, check your spam folder."),
    ),
    Article(
        "account-delete",
        ("Διαγραφή λογαριασμού και προσωπικά δεδομένα", "Μπορείτε να ζητήσετε τη διαγραφή του λογαριασμού σας από τις *Ρυθμίσεις λογαριασμού* ή στέλνοντας email. Θα διαγράψουμε τα προσωπικά σας δεδομένα μέσα σε 30 ημέρες, σύμφωνα με τον GDPR, εκτός από όσα πρέπει να κρατήσουμε για φορολογικούς λόγους, όπως τα τιμολόγια."),
        ("Deleting your account and personal data", "You can ask us to delete your account from *Account settings* or by email. We erase your personal data within 30 days under the GDPR, except what we must keep for tax reasons, such as invoices."),
    ),
    Article(
        "newsletter",
        ("Εγγραφή και διαγραφή από το newsletter", "Για να σταματήσετε να λαμβάνετε τα ενημερωτικά μας email, πατήστε *Διαγραφή* στο κάτω μέρος οποιουδήποτε newsletter ή απενεργοποιήστε τις ειδοποιήσεις από τον λογαριασμό σας. Με την εγγραφή στο newsletter κερδίζετε κουπόνι 10% για την πρώτη σας αγορά."),
        ("Subscribing to and unsubscribing from the newsletter", "To stop receiving our marketing emails, click *Unsubscribe* at the bottom of any newsletter or turn off notifications in your account. Subscribe to the newsletter and get a 10% voucher for your first purchase."),
    ),
    Article(
        "loyalty",
        ("Πόντοι επιβράβευσης", "Με κάθε αγορά κερδίζετε 1 πόντο για κάθε 1 € και κάθε 100 πόντοι αξίζουν 1 € έκπτωση στην επόμενη παραγγελία. Οι πόντοι πιστώνονται 15 ημέρες μετά την παράδοση και λήγουν μετά από 12 μήνες. Αν επιστρέψετε ένα προϊόν, αφαιρούνται οι αντίστοιχοι πόντοι."),
        ("Loyalty points", "You earn 1 point for every €1 you spend, and every 100 points are worth €1 off your next order. Points are credited 15 days after delivery and expire after 12 months. If you return an item, the matching points are taken off."),
    ),
    Article(
        "skroutz",
        ("Παραγγελίες μέσω Skroutz", "Αν αγοράσατε από εμάς μέσα από το **Skroutz** με το Skroutz Καλάθι, η παραγγελία και η πληρωμή διαχειρίζονται από το Skroutz. Για την κατάσταση της αποστολής, επιστροφές και επιστροφή χρημάτων απευθυνθείτε στις *Παραγγελίες* του λογαριασμού σας στο Skroutz. Η παράδοση μπορεί να γίνει και σε Skroutz Point."),
        ("Orders placed through Skroutz", "If you bought from us on **Skroutz** with Skroutz Cart, the order and payment are handled by Skroutz. For shipping status, returns and refunds go to *Orders* in your Skroutz account. Delivery can also be to a Skroutz Point."),
    ),
    Article(
        "warranty",
        ("Εγγύηση προϊόντων", "Όλα τα ηλεκτρονικά και οι ηλεκτρικές συσκευές έχουν εγγύηση κατασκευαστή τουλάχιστον 2 ετών. Αν η συσκευή παρουσιάσει βλάβη, επικοινωνήστε με το εξουσιοδοτημένο service του κατασκευαστή ή στείλτε την σε εμάς μαζί με την απόδειξη αγοράς. Η εγγύηση δεν καλύπτει ζημιές από κακή χρήση."),
        ("Product warranty", "All electronics and electrical appliances come with a manufacturer's warranty of at least 2 years. If the appliance breaks down, contact the manufacturer's authorised service centre or send it to us with your proof of purchase. The warranty does not cover damage from misuse."),
    ),
    Article(
        "out-of-stock",
        ("Προϊόν εξαντλημένο", "Αν ένα προϊόν είναι εξαντλημένο, πατήστε **Ενημέρωσέ με** στη σελίδα του και θα σας στείλουμε email μόλις είναι ξανά διαθέσιμο. Δεν μπορούμε να κρατήσουμε προϊόντα που δεν είναι σε απόθεμα. Η διαθεσιμότητα στα φυσικά καταστήματα μπορεί να διαφέρει."),
        ("Out-of-stock items", "If an item is out of stock, click **Notify me** on its page and we will email you as soon as it is back in stock. We cannot reserve items that are not in stock. Availability in our shops may differ."),
    ),
    Article(
        "contact",
        ("Επικοινωνία με την εξυπηρέτηση πελατών", "Η εξυπηρέτηση πελατών είναι διαθέσιμη Δευτέρα έως Παρασκευή 9:00-18:00 στο τηλέφωνο 210 1234567, με live chat στη σελίδα και με email στο support@emporio.gr. Για ταχύτερη εξυπηρέτηση έχετε διαθέσιμο τον αριθμό παραγγελίας σας."),
        ("Contacting customer service", "Customer service is available Monday to Friday, 9am to 6pm, on 210 1234567, through live chat on our site and by email at support@emporio.gr. Have your order number ready so we can help you faster."),
    ),
    Article(
        "international",
        ("Αποστολές στο εξωτερικό και στην Κύπρο", "Αποστέλλουμε στην Κύπρο και σε όλες τις χώρες της Ευρωπαϊκής Ένωσης. Η παράδοση στην Κύπρο διαρκεί 3-5 εργάσιμες και τα μεταφορικά κοστίζουν 9 €. Για αποστολές εκτός ΕΕ μπορεί να υπάρχουν τελωνειακοί δασμοί που πληρώνει ο παραλήπτης."),
        ("International shipping and Cyprus", "We ship to Cyprus and to every country in the European Union. Delivery to Cyprus takes 3-5 working days and costs €9. Deliveries outside the EU may incur customs duties, paid by the recipient."),
    ),
    Article(
        "price-drop",
        ("Η τιμή έπεσε μετά την αγορά μου", "Αν η τιμή ενός προϊόντος μειωθεί μέσα σε 7 ημέρες από την αγορά σας, επικοινωνήστε μαζί μας και θα σας επιστρέψουμε τη διαφορά ως πίστωση στον λογαριασμό σας. Η εγγύηση χαμηλότερης τιμής δεν ισχύει για προσφορές flash και για Black Friday."),
        ("The price dropped after I bought", "If the price of an item drops within 7 days of your purchase, contact us and we will refund the difference as store credit in your account. The price guarantee does not cover flash sales or Black Friday."),
    ),
    Article(
        "no-confirmation",
        ("Δεν έλαβα email επιβεβαίωσης παραγγελίας", "Το email επιβεβαίωσης στέλνεται αμέσως μετά την ολοκλήρωση της αγοράς. Αν δεν το βρίσκετε, ελέγξτε τον φάκελο spam και ότι γράψατε σωστά τη διεύθυνση email. Αν η παραγγελία εμφανίζεται στον λογαριασμό σας, έχει καταχωρηθεί κανονικά."),
        ("I didn't get an order confirmation email", "The confirmation email is sent right after checkout. If you cannot find it, check your spam folder and that you typed your email address correctly. If the order shows in your account, it has been placed."),
    ),
    Article(
        "size-guide",
        ("Οδηγός μεγεθών", "Σε κάθε σελίδα ρούχου ή παπουτσιού θα βρείτε τον **Οδηγό μεγεθών** με τις μετρήσεις σε εκατοστά. Μετρήστε στήθος, μέση και γοφούς και συγκρίνετε με τον πίνακα. Αν είστε ανάμεσα σε δύο νούμερα, προτείνουμε το μεγαλύτερο."),
        ("Size guide", "Every clothing and shoe page has a **Size guide** with measurements in centimetres. Measure your chest, waist and hips and compare with the chart. If you are between two sizes, we suggest the larger one."),
    ),
    Article(
        "payment-security",
        ("Ασφάλεια πληρωμών και απάτες", "Δεν ζητάμε ποτέ τα στοιχεία της κάρτας σας ή κωδικούς μιας χρήσης με τηλέφωνο, SMS ή email. Αν λάβετε τέτοιο μήνυμα στο όνομά μας, μην πατήσετε τον σύνδεσμο και ενημερώστε μας. Τα στοιχεία της κάρτας δεν αποθηκεύονται στους διακομιστές μας."),
        ("Payment security and phishing", "We never ask for your card details or one-time passcodes by phone, text or email. If you get such a message in our name, do not click the link and let us know. Card details are never stored on our servers."),
    ),
    Article(
        "pre-order",
        ("Προπαραγγελίες", "Τα προϊόντα σε προπαραγγελία αποστέλλονται μόλις κυκλοφορήσουν, στην ημερομηνία που αναφέρεται στη σελίδα τους. Η κάρτα σας χρεώνεται όταν αποσταλεί το προϊόν. Αν η παραγγελία περιέχει και άλλα προϊόντα, αυτά αποστέλλονται χωριστά χωρίς επιπλέον κόστος."),
        ("Pre-orders", "Pre-order items ship as soon as they are released, on the date shown on their page. Your card is charged when the item ships. If the order contains other items, they ship separately at no extra cost."),
    ),
    Article(
        "gift-wrap",
        ("Συσκευασία δώρου", "Στο ταμείο μπορείτε να επιλέξετε **συσκευασία δώρου** με 2 € και να προσθέσετε ευχετήρια κάρτα με το μήνυμά σας. Σε παραγγελίες δώρου δεν βάζουμε τιμές μέσα στο δέμα."),
        ("Gift wrapping", "At checkout you can add **gift wrapping** for €2 and include a greeting card with your message. We never put prices inside gift parcels."),
    ),
    Article(
        "agent-manual-refund",
        ("Χειροκίνητη επιστροφή χρημάτων (οδηγίες για agents)", "Μόνο για το προσωπικό: όταν η αυτόματη επιστροφή χρημάτων αποτύχει, ανοίξτε την παραγγελία στο backoffice, πατήστε **Χειροκίνητη επιστροφή** και συμπληρώστε το ποσό και τον λόγο. Για ποσά άνω των 200 € χρειάζεται έγκριση του υπεύθυνου βάρδιας."),
        ("Manual refunds (agent guide)", "Staff only: when an automatic refund fails, open the order in the back office, press **Manual refund** and enter the amount and the reason. Refunds over €200 need a shift supervisor's approval."),
        visibility="internal",
    ),
)  # fmt: skip

QUERIES: tuple[Judged, ...] = (
    # Greek, with accents
    Judged("επιστροφή χρημάτων", "el", ("refund-timing", "refund-cod")),
    Judged("πολιτική επιστροφών", "el", ("returns-policy",)),
    Judged("πώς κάνω επιστροφή", "el", ("return-how",)),
    Judged("αλλαγή μεγέθους", "el", ("exchange",)),
    Judged("χαλασμένο προϊόν", "el", ("damaged",)),
    Judged("έλαβα λάθος προϊόν", "el", ("wrong-item",)),
    Judged("λείπει ένα προϊόν από το δέμα", "el", ("missing-item",)),
    Judged("χρόνος παράδοσης", "el", ("delivery-times",)),
    Judged("δωρεάν μεταφορικά", "el", ("shipping-costs",)),
    Judged("αποστολή στα νησιά", "el", ("islands",)),
    Judged("παραλαβή από θυρίδα", "el", ("lockers",)),
    Judged("παραλαβή από το κατάστημα", "el", ("store-pickup",)),
    Judged("αλλαγή διεύθυνσης", "el", ("change-address",)),
    Judged("αντικαταβολή", "el", ("cod",)),
    Judged("τρόποι πληρωμής", "el", ("payment-methods",)),
    Judged("απορρίφθηκε η κάρτα μου", "el", ("card-declined",)),
    Judged("άτοκες δόσεις", "el", ("installments",)),
    Judged("τραπεζική κατάθεση", "el", ("bank-transfer",)),
    Judged("κουπόνι έκπτωσης", "el", ("vouchers",)),
    Judged("υπόλοιπο δωροκάρτας", "el", ("gift-cards",)),
    Judged("τιμολόγιο", "el", ("invoice",)),
    Judged("τιμολόγια εταιρείας", "el", ("invoice",)),
    Judged("απόδειξη αγοράς", "el", ("receipt",)),
    Judged("δημιουργία λογαριασμού", "el", ("account-create",)),
    Judged("διαγραφή λογαριασμού", "el", ("account-delete",)),
    Judged("πόντοι επιβράβευσης", "el", ("loyalty",)),
    Judged("εγγύηση συσκευής", "el", ("warranty",)),
    Judged("εξαντλημένο προϊόν", "el", ("out-of-stock",)),
    Judged("τηλέφωνο εξυπηρέτησης πελατών", "el", ("contact",)),
    Judged("αποστολή στην Κύπρο", "el", ("international",)),
    Judged("οδηγός μεγεθών", "el", ("size-guide",)),
    Judged("προπαραγγελία", "el", ("pre-order",)),
    Judged("συσκευασία δώρου", "el", ("gift-wrap",)),
    # Greek without accents, in capitals, final sigma written as σ or ς
    Judged("επιστροφη χρηματων", "el", ("refund-timing", "refund-cod")),
    Judged("ΑΝΤΙΚΑΤΑΒΟΛΗ", "el", ("cod",)),
    Judged("ΑΚΥΡΩΣΗ ΠΑΡΑΓΓΕΛΙΑΣ", "el", ("cancel-order",)),
    Judged("ΤΙΜΟΛΟΓΙΟ ΑΦΜ", "el", ("invoice",)),
    Judged("τροποι πληρωμης", "el", ("payment-methods",)),
    Judged("ΚΩΔΙΚΟΣ ΠΡΟΣΒΑΣΗΣ", "el", ("password-reset",)),
    Judged("κωδικοσ εκπτωσησ", "el", ("vouchers",)),
    Judged("Θυρίδες", "el", ("lockers",)),
    Judged("ΕΓΓΥΗΣΗ", "el", ("warranty",)),
    # Greeklish
    Judged("epistrofi xrimaton", "el", ("refund-timing", "refund-cod")),
    Judged("antikatavoli", "el", ("cod",)),
    Judged("antikatavolh", "el", ("cod",)),
    Judged("pou einai i paraggelia mou", "el", ("order-tracking",)),
    Judged("akyrosi paraggelias", "el", ("cancel-order",)),
    Judged("timologio", "el", ("invoice",)),
    Judged("kouponi ekptwsis", "el", ("vouchers",)),
    Judged("thyrida", "el", ("lockers",)),
    Judged("atokes doseis", "el", ("installments",)),
    Judged("ksexasa ton kwdiko", "el", ("password-reset",)),
    Judged("dorokarta", "el", ("gift-cards",)),
    Judged("dwrean metaforika", "el", ("shipping-costs",)),
    Judged("eggyisi", "el", ("warranty",)),
    Judged("trapeziki katathesi", "el", ("bank-transfer",)),
    Judged("allagi megethous", "el", ("exchange",)),
    Judged("skroutz", "el", ("skroutz",)),
    # English
    Judged("refund", "en", ("refund-timing",)),
    Judged("how do I return an item", "en", ("return-how",)),
    Judged("where is my order", "en", ("order-tracking",)),
    Judged("cash on delivery", "en", ("cod",)),
    Judged("free shipping", "en", ("shipping-costs",)),
    Judged("parcel locker", "en", ("lockers",)),
    Judged("cancel my order", "en", ("cancel-order",)),
    Judged("invoice with VAT number", "en", ("invoice",)),
    Judged("forgot password", "en", ("password-reset",)),
    Judged("delete my account", "en", ("account-delete",)),
    Judged("gift card balance", "en", ("gift-cards",)),
    Judged("discount code not working", "en", ("vouchers",)),
    Judged("card declined", "en", ("card-declined",)),
    Judged("interest free instalments", "en", ("installments",)),
    Judged("item missing from parcel", "en", ("missing-item",)),
    Judged("damaged item", "en", ("damaged",)),
    Judged("unsubscribe from newsletter", "en", ("newsletter",)),
    Judged("ordered on skroutz", "en", ("skroutz",)),
    Judged("price dropped", "en", ("price-drop",)),
    Judged("shipping to cyprus", "en", ("international",)),
    # One-letter typos
    Judged("αντικατβολή", "el", ("cod",)),
    Judged("τιμολογο", "el", ("invoice",)),
    Judged("ακύρωση παραγελίας", "el", ("cancel-order",)),
    Judged("δωροκράτα", "el", ("gift-cards",)),
    Judged("εγγυηση", "el", ("warranty",)),
    Judged("refnud", "en", ("refund-timing",)),
    Judged("invocie", "en", ("invoice",)),
    Judged("pasword", "en", ("password-reset",)),
    Judged("instalmnets", "en", ("installments",)),
    Judged("lokcer", "en", ("lockers",)),
    Judged("antikatavoki", "el", ("cod",)),
    # Questions full of stop words
    Judged("πού είναι η παραγγελία μου", "el", ("order-tracking",)),
    Judged("πώς μπορώ να πάρω πίσω τα χρήματά μου", "el", ("refund-timing",)),
    Judged("θέλω να ακυρώσω την παραγγελία μου", "el", ("cancel-order",)),
    Judged("τι γίνεται αν ο κούριερ δεν με βρει στο σπίτι", "el", ("courier-missed",)),
    Judged("μπορώ να πληρώσω με αντικαταβολή στη θυρίδα;", "el", ("cod", "lockers")),
    Judged("can I pay cash on delivery", "en", ("cod",)),
    Judged("how long does delivery to the islands take", "en", ("islands",)),
    # Paraphrases: words the articles do not use (some are beyond a lexical search)
    Judged("πότε θα πάρω τα λεφτά μου πίσω", "el", ("refund-timing",)),
    Judged("η κάρτα δεν περνάει", "el", ("card-declined",)),
    Judged("μου ήρθε σπασμένο", "el", ("damaged",)),
    Judged("χρέωση αντικαταβολής", "el", ("cod",)),
    Judged("πόσο κοστίζουν τα μεταφορικά", "el", ("shipping-costs",)),
    Judged("μπορώ να αλλάξω το νούμερο", "el", ("exchange",)),
    Judged("epistrofes", "el", ("returns-policy", "return-how")),
    Judged("αφμ", "el", ("invoice",)),
    Judged("refund for cash on delivery", "en", ("refund-cod",)),
    Judged("money back", "en", ("refund-timing",)),
    Judged("my parcel was returned to sender", "en", ("courier-missed", "lockers")),
    # Any locale
    Judged("IBAN", None, ("refund-cod",)),
    Judged("BOX NOW", None, ("lockers",)),
    Judged("GDPR", None, ("account-delete",)),
    Judged("Skroutz Point", None, ("skroutz",)),
    Judged("PayPal", None, ("payment-methods", "refund-timing")),
    Judged("3D Secure", None, ("payment-methods", "card-declined")),
    Judged("spam", None, ("password-reset", "no-confirmation")),
)
