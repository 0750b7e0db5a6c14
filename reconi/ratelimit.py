"""Counting attempts per person in the shared cache (one cache for every process: settings.CACHES)."""

import time

from django.core.cache import cache


def parse_rate(rate: str) -> tuple[int, int]:
    """ "30/h" -> (30, 3600). Units: s, m, h, d."""
    amount, unit = rate.split("/")
    return int(amount), {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit.strip()[0]]


def rate_limit_hit(key: str, rate: str) -> bool:
    """Count one attempt under ``key``; True while the attempts of the current window stay within ``rate``."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    cache_key = f"ratelimit:{key}:{window}"
    cache.add(cache_key, 0, timeout=period + 5)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=period + 5)
        count = 1
    return count <= limit
