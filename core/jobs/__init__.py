"""Background work: arq behind a small interface, the outbox dispatcher and sweeper, cron."""
