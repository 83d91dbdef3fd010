-- 0007_cleanup_indexes: what DeleteExpired needs to find the rows of
-- 0006's tables that it removes without scanning them: email links long
-- expired, and outbox messages long done. Invitations are never removed.

-- Email links expired more than a week ago.
CREATE INDEX email_tokens_expires ON email_tokens (expires_at);

-- Outbox messages done more than 30 days ago: sent or logged ones by when
-- they were sent, failed ones (which have no sent_at) by when they were
-- created. Partial, each with the predicate its DELETE repeats, so that
-- neither holds a pending message; a claim (lease_until) still changes no
-- indexed column.
CREATE INDEX mail_outbox_sent ON mail_outbox (sent_at) WHERE status IN ('sent', 'logged');
CREATE INDEX mail_outbox_failed ON mail_outbox (created_at) WHERE status = 'failed';
