"""The content community: posts, comments, likes, notifications, the feed, remixes, and the characters who take part (docs/community.md)."""
