"""Moderation, the people side: reports, the review queue, actions and their audit log,
suspensions and bans, appeals, notices to the user affected, and the community rules page.
docs/moderation.md ("People") describes it."""
