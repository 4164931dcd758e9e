/* Emporio ops: names of what the engine calls by code (KPIs, dimensions, segments, topics, the
 * statuses of orders, shipments, payments and returns) in Greek and English. */
(function () {
  'use strict';
  const O = (window.EmporioOps = window.EmporioOps || {});

  // The engine names its KPIs in English; these are their Greek names.
  O.KPI_NAMES_EL = {
    orders_placed: 'Παραγγελίες',
    average_order_value: 'Μέση αξία παραγγελίας',
    payment_conversion_rate: 'Επιτυχία πληρωμών',
    checkout_abandonment_rate: 'Εγκατάλειψη ταμείου',
    completed_orders: 'Ολοκληρωμένες παραγγελίες',
    on_time_delivery_rate: 'Έγκαιρη παράδοση',
    on_time_shipping_rate: 'Έγκαιρη αποστολή',
    perfect_order_rate: 'Τέλειες παραγγελίες',
    order_cycle_time_hours: 'Χρόνος κύκλου παραγγελίας',
    order_picking_time_minutes: 'Χρόνος συλλογής',
    orders_picked_per_hour: 'Συλλογές ανά ώρα',
    picking_accuracy: 'Ακρίβεια συλλογής',
    line_item_fill_rate: 'Πληρότητα γραμμών',
    avg_shipping_cost: 'Μέσο κόστος αποστολής',
    shipping_cost_to_sales: 'Κόστος αποστολής / πωλήσεις',
    order_fill_rate: 'Παράδοση με την 1η απόπειρα',
    inventory_accuracy: 'Ακρίβεια αποθέματος',
    return_rate_units: 'Επιστροφές (τεμάχια)',
    return_rate_orders: 'Επιστροφές (παραγγελίες)',
    resell_rate: 'Επαναπώληση',
    replacement_rate: 'Αντικατάσταση',
    repair_cost_ratio: 'Κόστος επισκευής / αξία',
    recycling_rate: 'Ανακύκλωση',
    total_tickets: 'Αιτήματα εξυπηρέτησης',
    tickets_per_customer: 'Αιτήματα ανά πελάτη',
    first_response_time_minutes: 'Χρόνος πρώτης απάντησης',
    response_time_minutes: 'Χρόνος απάντησης',
    resolution_time_hours: 'Χρόνος επίλυσης',
    average_handle_time_minutes: 'Μέσος χρόνος χειρισμού',
    first_contact_resolution_rate: 'Επίλυση με την 1η επαφή',
    cost_per_resolution: 'Κόστος ανά επίλυση',
    channel_switch_rate: 'Αλλαγή καναλιού',
    repeat_contact_rate: 'Επαναλαμβανόμενη επαφή',
    top_performing_agents: 'Κορυφαίοι εκπρόσωποι',
    csat: 'Ικανοποίηση (CSAT)',
    ces: 'Ευκολία (CES)',
    nps: 'NPS',
    ces_mean: 'Ευκολία (CES), μέσος βαθμός',
    average_rating: 'Μέση βαθμολογία κριτικών',
    survey_response_rate: 'Ποσοστό απαντήσεων σε έρευνες',
    customer_retention_rate: 'Διατήρηση πελατών',
    churn_rate: 'Απώλεια πελατών',
    post_service_repurchase_rate: 'Επαναγορά μετά την εξυπηρέτηση',
    customer_lifetime_value: 'Αξία πελάτη (CLV)',
  };

  O.DIMENSIONS = {
    el: {
      channel: 'Κανάλι', segment: 'Πελάτες', issuer_bank: 'Τράπεζα έκδοσης', method: 'Μέθοδος',
      card_brand: 'Δίκτυο κάρτας', funding: 'Τύπος κάρτας', provider: 'Πάροχος', reason: 'Αιτία',
      resolution: 'Λύση', disposition: 'Διάθεση', location: 'Τοποθεσία', sku: 'SKU', picker: 'Συλλέκτης',
      courier: 'Μεταφορική', agent: 'Εκπρόσωπος', category: 'Κατηγορία', topic: 'Θέμα',
      customer_segment: 'Τμήμα πελατών',
    },
    en: {
      channel: 'Channel', segment: 'Customers', issuer_bank: 'Issuing bank', method: 'Method',
      card_brand: 'Card brand', funding: 'Funding', provider: 'Provider', reason: 'Reason',
      resolution: 'Resolution', disposition: 'Disposition', location: 'Location', sku: 'SKU', picker: 'Picker',
      courier: 'Courier', agent: 'Agent', category: 'Category', topic: 'Topic',
      customer_segment: 'Customer segment',
    },
  };

  // The default segments policy's names; a shop's own policy (GET /v1/policies/segments) wins.
  O.SEGMENT_NAMES = {
    el: { vip: 'VIP', loyal: 'Πιστοί', at_risk: 'Σε κίνδυνο', churned: 'Χαμένοι', one_time: 'Μία αγορά', new: 'Νέοι',
      regular: 'Τακτικοί' },
    en: { vip: 'VIP', loyal: 'Loyal', at_risk: 'At risk', churned: 'Churned', one_time: 'One-time', new: 'New',
      regular: 'Regular' },
  };

  // The domain's status codes of orders, shipments, payments and returns (others show as they are).
  O.CODES = {
    el: {
      pending_payment: 'Αναμονή πληρωμής', confirmed: 'Επιβεβαιωμένη', routed: 'Σε εκτέλεση',
      partially_shipped: 'Μερικώς απεσταλμένη', shipped: 'Απεσταλμένη', delivered: 'Παραδόθηκε', cancelled: 'Ακυρώθηκε',
      canceled: 'Ακυρώθηκε', returned: 'Επιστράφηκε', pending: 'Σε αναμονή', picking: 'Συλλογή', packed: 'Συσκευάστηκε',
      label_created: 'Ετικέτα έτοιμη', in_transit: 'Καθ’ οδόν', out_for_delivery: 'Προς παράδοση',
      delivery_failed: 'Αποτυχία παράδοσης', reattempt_scheduled: 'Νέα απόπειρα', returning_to_sender: 'Επιστρέφει',
      returned_to_sender: 'Επεστράφη στον αποστολέα', lost: 'Χάθηκε', requires_action: 'Θέλει ενέργεια',
      authorized: 'Εγκρίθηκε', partially_captured: 'Μερική είσπραξη', captured: 'Εισπράχθηκε',
      partially_refunded: 'Μερική επιστροφή χρημάτων', refunded: 'Επιστροφή χρημάτων', failed: 'Απέτυχε',
      requested: 'Ζητήθηκε', pending_review: 'Προς έλεγχο', approved: 'Εγκρίθηκε', declined: 'Απορρίφθηκε',
      received: 'Παραλήφθηκε', completed: 'Ολοκληρώθηκε', refund: 'Επιστροφή χρημάτων', replacement: 'Αντικατάσταση',
      repair: 'Επισκευή', store_credit: 'Πίστωση', resell: 'Μεταπώληση',
    },
    en: {
      pending_payment: 'Awaiting payment', confirmed: 'Confirmed', routed: 'In fulfilment',
      partially_shipped: 'Partly shipped', shipped: 'Shipped', delivered: 'Delivered', cancelled: 'Cancelled',
      canceled: 'Cancelled', returned: 'Returned', pending: 'Pending', picking: 'Picking', packed: 'Packed',
      label_created: 'Label created', in_transit: 'In transit', out_for_delivery: 'Out for delivery',
      delivery_failed: 'Delivery failed', reattempt_scheduled: 'Reattempt scheduled', returning_to_sender: 'Returning',
      returned_to_sender: 'Returned to sender', lost: 'Lost', requires_action: 'Needs action',
      authorized: 'Authorised', partially_captured: 'Partly captured', captured: 'Captured',
      partially_refunded: 'Partly refunded', refunded: 'Refunded', failed: 'Failed',
      requested: 'Requested', pending_review: 'To review', approved: 'Approved', declined: 'Declined',
      received: 'Received', completed: 'Completed', refund: 'Refund', replacement: 'Replacement',
      repair: 'Repair', store_credit: 'Store credit', resell: 'Resell',
    },
  };

  // Service topics of the default policy.
  O.TOPIC_NAMES = {
    el: { delivery: 'Παράδοση', payment: 'Πληρωμή', returns: 'Επιστροφές', product: 'Προϊόν', account: 'Λογαριασμός',
      feedback: 'Αξιολόγηση' },
    en: { delivery: 'Delivery', payment: 'Payment', returns: 'Returns', product: 'Product', account: 'Account',
      feedback: 'Feedback' },
  };
})();
