"""Clients' episodes as staff record them: events, referrals and checklist marks, open steps, staff members, the
guidance-query log, the audit trail, prison numbers, dates, retention."""
