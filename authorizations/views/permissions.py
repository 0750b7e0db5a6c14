"""The Permissions list and its row actions (revoke, renew, activate)."""
