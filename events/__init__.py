"""Community events: time-boxed themes with topics of the day, limited banners and creator
contests judged by retained users (docs/events.md)."""
