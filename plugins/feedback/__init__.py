"""The voice of the customer: CSAT, CES and NPS surveys sent by a versioned `surveys` policy
(throttled, suppressed with a reason, signed single-use links to a server-rendered page), verified
product reviews with moderation and the shop's reply, follow-up cases for low scores (the
`detractor` fact), the feedback KPIs and their import kinds, and the ops page at /ops/feedback."""
