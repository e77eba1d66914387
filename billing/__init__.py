"""Memberships and paying for them: tiers and their entitlements, signed webhooks (generic and
Stripe), redeem codes. See docs/billing.md."""
