"""Celery beat that runs each scheduled job once, however many beat processes run.

Every beat process tries to hold one lock in Redis (``SET NX PX``, renewed on every
tick, at least every BEAT_LOCK_TTL / 3 seconds). Only the holder sends due jobs; the
others stand by and check again every few seconds. When the holder stops, it lets go
of the lock; when it dies, the lock expires after BEAT_LOCK_TTL seconds and a standby
takes over.

The holder also writes when it last sent each job to Redis, and a process that takes
over starts from those times: a daily job that the previous holder sent this morning
is not sent again because the new holder's own clock for it started yesterday.
"""

import datetime
import logging
import os
import socket
import uuid

import redis
from celery.beat import PersistentScheduler
from django.conf import settings

logger = logging.getLogger("reconi.beat")

LOCK_KEY = "reconi:beat:lock"
LAST_RUN_KEY = "reconi:beat:last-run"

# Renew the lock only if we still hold it; let go only of our own lock.
_RENEW = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end return 0"
_RELEASE = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"


class SingletonScheduler(PersistentScheduler):
    def __init__(self, *args, **kwargs):
        self.lock_ttl = max(int(settings.BEAT_LOCK_TTL), 3)
        self.token = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.is_leader = False
        self._redis = redis.Redis.from_url(settings.BEAT_LOCK_URL, socket_timeout=5, socket_connect_timeout=5)
        super().__init__(*args, **kwargs)

    # The lock ---------------------------------------------------------------------------------------

    def _hold_lock(self) -> bool:
        ttl_ms = self.lock_ttl * 1000
        try:
            if self.is_leader:
                if self._redis.eval(_RENEW, 1, LOCK_KEY, self.token, ttl_ms):
                    return True
                logger.warning("Beat %s lost the lock: standing by", self.token)
                self.is_leader = False
            if self._redis.set(LOCK_KEY, self.token, nx=True, px=ttl_ms):
                self.is_leader = True
                logger.info("Beat %s holds the lock: sending scheduled jobs", self.token)
                self._load_last_runs()
        except redis.RedisError:
            # Without Redis no one can prove to hold the lock: send nothing rather than twice.
            if self.is_leader:
                logger.warning("Beat %s cannot reach Redis: standing by", self.token, exc_info=True)
            self.is_leader = False
        return self.is_leader

    def tick(self, *args, **kwargs):
        if not self._hold_lock():
            return min(5.0, self.lock_ttl / 3)
        return min(super().tick(*args, **kwargs), self.lock_ttl / 3)

    def close(self):
        try:
            if self.is_leader:
                self._redis.eval(_RELEASE, 1, LOCK_KEY, self.token)
        except redis.RedisError:
            logger.warning("Beat %s could not release the lock; it expires by itself", self.token)
        finally:
            self.is_leader = False
            super().close()

    # Shared last-run times ------------------------------------------------------------------------

    def reserve(self, entry):
        new_entry = super().reserve(entry)
        try:
            self._redis.hset(LAST_RUN_KEY, entry.name, new_entry.last_run_at.isoformat())
        except redis.RedisError:
            logger.warning("Beat: could not record the last run of %s", entry.name, exc_info=True)
        return new_entry

    def _load_last_runs(self) -> None:
        stored = {key.decode(): value.decode() for key, value in self._redis.hgetall(LAST_RUN_KEY).items()}
        for name, entry in self.schedule.items():
            if name not in stored:
                continue
            last_run = datetime.datetime.fromisoformat(stored[name])
            if last_run.tzinfo is None:
                last_run = last_run.replace(tzinfo=datetime.UTC)
            mine = entry.last_run_at
            if mine is None or mine.tzinfo is None or last_run > mine:
                entry.last_run_at = last_run
