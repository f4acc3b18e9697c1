"""The demo: a realistic synthetic feed for `smm-pulse up --demo` and its configuration."""
