"""What managers and the commissioner see: reports, the review of logged queries, the daily digest."""
