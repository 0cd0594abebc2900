import PitStorage

/// Versioned migrations, tracked in `PRAGMA user_version`. Append only: a released migration
/// is never edited.
///
/// Layout choices (DESIGN.md "hot table stays lean"): `events` has an integer, time-ordered
/// primary key; the random 16-byte event id lives in one secondary index that dedupes
/// (project, event_id); payloads are zstd-compressed blobs; per-issue counters, users and tag
/// facets are aggregated per batch in their own small tables.
package enum SQLiteSchema {
    static let migrations: [String] = [
        // 1: the ingest foundation.
        """
        CREATE TABLE organizations (
            id INTEGER PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE projects (
            id INTEGER PRIMARY KEY,
            organization_id INTEGER NOT NULL REFERENCES organizations(id),
            slug TEXT NOT NULL,
            name TEXT NOT NULL,
            platform TEXT,
            created_at INTEGER NOT NULL,
            UNIQUE (organization_id, slug)
        );
        CREATE TABLE project_keys (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id),
            public_key TEXT NOT NULL UNIQUE,
            label TEXT NOT NULL DEFAULT 'Default',
            enabled INTEGER NOT NULL DEFAULT 1,
            rate_limit_count INTEGER,
            rate_limit_window INTEGER,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY,
            token_hash BLOB NOT NULL UNIQUE,
            label TEXT NOT NULL,
            scopes TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            revoked_at INTEGER
        );
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE issues (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL REFERENCES projects(id),
            short_id INTEGER NOT NULL,
            kind TEXT NOT NULL,
            title TEXT NOT NULL,
            culprit TEXT NOT NULL,
            metadata TEXT NOT NULL,
            level INTEGER NOT NULL,
            status INTEGER NOT NULL DEFAULT 0,
            substatus INTEGER NOT NULL DEFAULT 0,
            resolved_in_release TEXT,
            resolved_at INTEGER,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            times_seen INTEGER NOT NULL DEFAULT 0,
            users_seen INTEGER NOT NULL DEFAULT 0,
            first_release TEXT,
            last_release TEXT,
            grouping TEXT NOT NULL,
            UNIQUE (project_id, short_id)
        );
        CREATE INDEX issues_project_last_seen ON issues (project_id, last_seen DESC);
        CREATE TABLE issue_hashes (
            project_id INTEGER NOT NULL,
            hash BLOB NOT NULL,
            issue_id INTEGER NOT NULL REFERENCES issues(id),
            PRIMARY KEY (project_id, hash)
        ) WITHOUT ROWID;
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            issue_id INTEGER NOT NULL,
            event_id BLOB NOT NULL,
            timestamp INTEGER NOT NULL,
            received INTEGER NOT NULL,
            level INTEGER NOT NULL,
            release TEXT,
            environment TEXT NOT NULL,
            user_key TEXT,
            processing_errors TEXT,
            payload_size INTEGER NOT NULL,
            payload BLOB NOT NULL
        );
        CREATE UNIQUE INDEX events_event_id ON events (project_id, event_id);
        CREATE INDEX events_issue ON events (issue_id, id);
        CREATE TABLE issue_users (
            issue_id INTEGER NOT NULL,
            user_key TEXT NOT NULL,
            PRIMARY KEY (issue_id, user_key)
        ) WITHOUT ROWID;
        CREATE TABLE issue_tags (
            issue_id INTEGER NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            times_seen INTEGER NOT NULL,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            PRIMARY KEY (issue_id, key, value)
        ) WITHOUT ROWID;
        CREATE TABLE releases (
            project_id INTEGER NOT NULL,
            version TEXT NOT NULL,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            events INTEGER NOT NULL DEFAULT 0,
            new_issues INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (project_id, version)
        ) WITHOUT ROWID;
        CREATE TABLE items (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            type TEXT NOT NULL,
            event_id BLOB,
            received INTEGER NOT NULL,
            header TEXT NOT NULL,
            payload_size INTEGER NOT NULL,
            payload BLOB NOT NULL
        );
        CREATE INDEX items_project_type ON items (project_id, type, id);
        """,
        // 2: payloads compressed with zstd dictionaries trained on the server's own events.
        """
        CREATE TABLE payload_dictionaries (
            id INTEGER PRIMARY KEY,
            created_at INTEGER NOT NULL,
            sample_count INTEGER NOT NULL,
            dictionary BLOB NOT NULL
        );
        ALTER TABLE events ADD COLUMN dictionary_id INTEGER;
        ALTER TABLE items ADD COLUMN dictionary_id INTEGER;
        """,
        // 3: accounts and the browsing side (issue 4): users, sessions, richer API tokens, hourly
        // counters for charts and sparklines (kept by the writer so a chart never scans events),
        // and an index for a project's event stream.
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            email TEXT NOT NULL UNIQUE COLLATE NOCASE,
            password_hash TEXT NOT NULL,
            is_admin INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE sessions (
            token_hash BLOB PRIMARY KEY,
            user_id INTEGER,
            csrf_token TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL
        ) WITHOUT ROWID;
        ALTER TABLE api_tokens ADD COLUMN prefix TEXT NOT NULL DEFAULT '';
        ALTER TABLE api_tokens ADD COLUMN user_id INTEGER;
        ALTER TABLE api_tokens ADD COLUMN last_used_at INTEGER;
        CREATE TABLE issue_hourly (
            issue_id INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            events INTEGER NOT NULL,
            PRIMARY KEY (issue_id, hour)
        ) WITHOUT ROWID;
        CREATE TABLE project_hourly (
            project_id INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            events INTEGER NOT NULL,
            new_issues INTEGER NOT NULL,
            PRIMARY KEY (project_id, hour)
        ) WITHOUT ROWID;
        CREATE INDEX events_project ON events (project_id, id);
        CREATE INDEX issues_project_first_seen ON issues (project_id, first_seen DESC);
        CREATE INDEX issues_project_times_seen ON issues (project_id, times_seen DESC);
        CREATE INDEX issues_project_users_seen ON issues (project_id, users_seen DESC);
        -- Tag counts per environment too, so the tag distribution of an issue can follow the
        -- page's environment filter without reading events.
        CREATE TABLE issue_tag_values (
            issue_id INTEGER NOT NULL,
            environment TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT NOT NULL,
            times_seen INTEGER NOT NULL,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            PRIMARY KEY (issue_id, key, value, environment)
        ) WITHOUT ROWID;
        INSERT INTO issue_tag_values (issue_id, environment, key, value, times_seen, first_seen, last_seen)
            SELECT t.issue_id, COALESCE((SELECT e.value FROM issue_tags e WHERE e.issue_id = t.issue_id AND e.key = 'environment'
                ORDER BY e.times_seen DESC LIMIT 1), 'production'), t.key, t.value, t.times_seen, t.first_seen, t.last_seen
            FROM issue_tags t;
        DROP TABLE issue_tags;
        CREATE INDEX issue_tag_values_key_value ON issue_tag_values (key, value, issue_id);
        INSERT INTO issue_hourly (issue_id, hour, events)
            SELECT issue_id, received / 3600000, COUNT(*) FROM events GROUP BY 1, 2;
        INSERT INTO project_hourly (project_id, hour, events, new_issues)
            SELECT project_id, received / 3600000, COUNT(*), 0 FROM events GROUP BY 1, 2;
        INSERT INTO project_hourly (project_id, hour, events, new_issues)
            SELECT project_id, first_seen / 3600000, 0, COUNT(*) FROM issues WHERE true GROUP BY 1, 2
            ON CONFLICT (project_id, hour) DO UPDATE SET new_issues = excluded.new_issues;
        """,
        // 4: lean issue rows. The grouping explanation (~7 KB of JSON per issue) moves to its own
        // table: inline it made every issue row overflow its page, so an issue search or count
        // read ~8 KB per issue (measured: 68-160 ms per issue list page with 10,000 issues).
        // The sort indexes end with id, the keyset tie-breaker, so no page of the list needs a
        // sort even when many issues share a timestamp or count.
        """
        CREATE TABLE issue_groupings (
            issue_id INTEGER PRIMARY KEY,
            grouping TEXT NOT NULL
        );
        INSERT INTO issue_groupings (issue_id, grouping) SELECT id, grouping FROM issues;
        ALTER TABLE issues DROP COLUMN grouping;
        DROP INDEX issues_project_last_seen;
        DROP INDEX issues_project_first_seen;
        DROP INDEX issues_project_times_seen;
        DROP INDEX issues_project_users_seen;
        CREATE INDEX issues_project_last_seen ON issues (project_id, last_seen DESC, id DESC);
        CREATE INDEX issues_project_first_seen ON issues (project_id, first_seen DESC, id DESC);
        CREATE INDEX issues_project_times_seen ON issues (project_id, times_seen DESC, id DESC);
        CREATE INDEX issues_project_users_seen ON issues (project_id, users_seen DESC, id DESC);
        """,
        // 5: the default issue search (`is:unresolved`, newest first) and its count read an index
        // range instead of every issue; a project's environments (every page's filter) come from
        // a small table the writer keeps instead of a join over all tag values (29 ms cold with
        // 10,000 issues).
        """
        CREATE INDEX issues_project_status_last_seen ON issues (project_id, status, last_seen DESC, id DESC);
        CREATE TABLE project_environments (
            project_id INTEGER NOT NULL,
            environment TEXT NOT NULL,
            events INTEGER NOT NULL,
            PRIMARY KEY (project_id, environment)
        ) WITHOUT ROWID;
        INSERT INTO project_environments (project_id, environment, events)
            SELECT i.project_id, t.value, SUM(t.times_seen) FROM issue_tag_values t JOIN issues i ON i.id = t.issue_id
            WHERE t.key = 'environment' GROUP BY i.project_id, t.value;
        """,
        // 6: free-text issue search through an FTS5 trigram index (substring matches, case-
        // insensitive, as LIKE '%term%' but without reading every issue: a search with no match
        // over 10,000 issues read them all), and an index for level filters.
        """
        CREATE VIRTUAL TABLE issue_search USING fts5(title, culprit, content='issues', content_rowid='id', tokenize='trigram');
        INSERT INTO issue_search (rowid, title, culprit) SELECT id, title, culprit FROM issues;
        CREATE TRIGGER issues_search_insert AFTER INSERT ON issues BEGIN
            INSERT INTO issue_search (rowid, title, culprit) VALUES (new.id, new.title, new.culprit);
        END;
        CREATE TRIGGER issues_search_delete AFTER DELETE ON issues BEGIN
            INSERT INTO issue_search (issue_search, rowid, title, culprit) VALUES ('delete', old.id, old.title, old.culprit);
        END;
        CREATE TRIGGER issues_search_update AFTER UPDATE OF title, culprit ON issues BEGIN
            INSERT INTO issue_search (issue_search, rowid, title, culprit) VALUES ('delete', old.id, old.title, old.culprit);
            INSERT INTO issue_search (rowid, title, culprit) VALUES (new.id, new.title, new.culprit);
        END;
        CREATE INDEX issues_project_level ON issues (project_id, level, last_seen DESC, id DESC);
        """,
        // 7: accounts an administrator disabled (`pitd user disable`, `PUT /api/0/users/{id}/`).
        """
        ALTER TABLE users ADD COLUMN disabled_at INTEGER;
        """,
        // 8: what ingest derived for reading an event (`EventReadView`): its type, title,
        // culprit, message and tags, so reads do not run extraction and grouping again. Events
        // stored before have none and are read the old way.
        """
        ALTER TABLE events ADD COLUMN read_view BLOB;
        """,
        // 9: release health (issue 12). Sessions are counted as they arrive, per project, release,
        // environment and hour: started and by final outcome, the distinct users (`did`) with the
        // worst outcome each had, and exited sessions' durations in `SessionDurations` buckets.
        // `session_states` holds what is needed for monotonic transitions, and only while an
        // update may still come (5 days, Relay's limit; the retention purger deletes older rows).
        """
        CREATE TABLE session_states (
            project_id INTEGER NOT NULL,
            sid TEXT NOT NULL,
            release TEXT NOT NULL,
            environment TEXT NOT NULL,
            started INTEGER NOT NULL,
            did TEXT,
            outcome INTEGER NOT NULL,
            errors INTEGER NOT NULL,
            ended INTEGER NOT NULL,
            PRIMARY KEY (project_id, sid)
        ) WITHOUT ROWID;
        CREATE INDEX session_states_started ON session_states (started);
        CREATE TABLE session_hourly (
            project_id INTEGER NOT NULL,
            release TEXT NOT NULL,
            environment TEXT NOT NULL,
            hour INTEGER NOT NULL,
            started INTEGER NOT NULL,
            errored INTEGER NOT NULL,
            abnormal INTEGER NOT NULL,
            crashed INTEGER NOT NULL,
            PRIMARY KEY (project_id, release, environment, hour)
        ) WITHOUT ROWID;
        CREATE INDEX session_hourly_project_hour ON session_hourly (project_id, hour);
        CREATE TABLE session_users (
            project_id INTEGER NOT NULL,
            release TEXT NOT NULL,
            environment TEXT NOT NULL,
            hour INTEGER NOT NULL,
            did TEXT NOT NULL,
            outcome INTEGER NOT NULL,
            PRIMARY KEY (project_id, release, environment, hour, did)
        ) WITHOUT ROWID;
        CREATE INDEX session_users_project_hour ON session_users (project_id, hour);
        CREATE TABLE session_durations (
            project_id INTEGER NOT NULL,
            release TEXT NOT NULL,
            environment TEXT NOT NULL,
            hour INTEGER NOT NULL,
            bucket INTEGER NOT NULL,
            sessions INTEGER NOT NULL,
            PRIMARY KEY (project_id, release, environment, hour, bucket)
        ) WITHOUT ROWID;
        CREATE INDEX session_durations_project_hour ON session_durations (project_id, hour)
        """,
        // 10: user feedback (`feedback` and legacy `user_report` items), one row per feedback. Its
        // event and issue are found when read, through events (project_id, event_id), so
        // feedback that arrives before its event needs no update when the event comes.
        """
        CREATE TABLE feedback (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            feedback_id BLOB NOT NULL,
            event_id BLOB,
            kind TEXT NOT NULL,
            name TEXT NOT NULL,
            email TEXT NOT NULL,
            comments TEXT NOT NULL,
            url TEXT,
            user_json TEXT,
            timestamp INTEGER NOT NULL,
            received INTEGER NOT NULL,
            payload_size INTEGER NOT NULL,
            payload BLOB NOT NULL
        );
        CREATE UNIQUE INDEX feedback_feedback_id ON feedback (project_id, feedback_id);
        CREATE INDEX feedback_project ON feedback (project_id, id);
        CREATE INDEX feedback_event ON feedback (project_id, event_id);
        """,
        // 11: cron monitors (issue 12). One row per project and slug with the config of the last
        // check-in that carried one; per environment the state the scheduler works from (next
        // expected check-in, failure and ok streaks, the open incident's event); the check-ins
        // themselves, newest first per monitor, and `in_progress` ones found fast for timeouts.
        """
        CREATE TABLE monitors (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            slug TEXT NOT NULL,
            name TEXT NOT NULL,
            schedule_type TEXT NOT NULL,
            schedule TEXT NOT NULL,
            schedule_unit TEXT,
            timezone TEXT NOT NULL,
            checkin_margin INTEGER,
            max_runtime INTEGER,
            failure_threshold INTEGER NOT NULL,
            recovery_threshold INTEGER NOT NULL,
            created INTEGER NOT NULL,
            UNIQUE (project_id, slug)
        );
        CREATE TABLE monitor_environments (
            monitor_id INTEGER NOT NULL,
            environment TEXT NOT NULL,
            status TEXT NOT NULL,
            last_checkin INTEGER,
            next_checkin INTEGER,
            failures INTEGER NOT NULL,
            oks INTEGER NOT NULL,
            incident_event TEXT,
            created INTEGER NOT NULL,
            PRIMARY KEY (monitor_id, environment)
        ) WITHOUT ROWID;
        CREATE TABLE monitor_checkins (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            monitor_id INTEGER NOT NULL,
            environment TEXT NOT NULL,
            guid TEXT NOT NULL,
            status TEXT NOT NULL,
            duration INTEGER,
            created INTEGER NOT NULL,
            updated INTEGER NOT NULL,
            expected INTEGER
        );
        CREATE UNIQUE INDEX monitor_checkins_guid ON monitor_checkins (project_id, guid);
        CREATE INDEX monitor_checkins_monitor_created ON monitor_checkins (monitor_id, created);
        CREATE INDEX monitor_checkins_project_created ON monitor_checkins (project_id, created);
        CREATE INDEX monitor_checkins_running ON monitor_checkins (status) WHERE status = 'in_progress'
        """,
        // 12: logs (`log` containers and `otel_log` items, issue 12), one row per log, kept for
        // the project's log retention. Times are milliseconds; `level` is `LogSeverity`'s raw
        // value; `attributes` is the typed JSON object `LogAttributes` writes. The explorer reads
        // a project's newest first, and a trace's logs by their trace id: that index carries the
        // explorer's order too, or the planner walks the time index instead (137 ms over 1M logs
        // for one trace, results/2026-12-02T085500Z-issue12-logs-at-a-million).
        """
        CREATE TABLE logs (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            timestamp INTEGER NOT NULL,
            received INTEGER NOT NULL,
            level INTEGER NOT NULL,
            severity_number INTEGER NOT NULL,
            trace_id TEXT,
            span_id TEXT,
            body TEXT NOT NULL,
            release TEXT,
            environment TEXT,
            sdk TEXT,
            attributes TEXT NOT NULL
        );
        CREATE INDEX logs_project_timestamp ON logs (project_id, timestamp DESC, id DESC);
        CREATE INDEX logs_trace ON logs (project_id, trace_id, timestamp DESC, id DESC) WHERE trace_id IS NOT NULL;
        """,
        // 13: attachments (`attachment` items, minidump uploads), one row per file outside the hot
        // events table, linked to their event by (project_id, event_id) when read, so an
        // attachment sent before or after its event needs no update. `content` is zstd when
        // `compressed`; an SDK's resend of the same file for the same event is stored once.
        """
        CREATE TABLE attachments (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            event_id BLOB NOT NULL,
            name TEXT NOT NULL,
            attachment_type TEXT NOT NULL,
            content_type TEXT,
            size INTEGER NOT NULL,
            sha1 TEXT NOT NULL,
            received INTEGER NOT NULL,
            compressed INTEGER NOT NULL,
            content BLOB NOT NULL
        );
        CREATE UNIQUE INDEX attachments_file ON attachments (project_id, event_id, name, sha1);
        CREATE INDEX attachments_received ON attachments (project_id, received)
        """,
        // 14: outcomes (Sentry's stats_v2): what was accepted, filtered, rate limited, invalid or
        // discarded by the client, per project, hour (since the epoch), outcome, data category
        // and reason ("" for none). Upserted once per key per batch; kept 90 days.
        """
        CREATE TABLE outcomes_hourly (
            project_id INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            outcome TEXT NOT NULL,
            category TEXT NOT NULL,
            reason TEXT NOT NULL,
            quantity INTEGER NOT NULL,
            times_seen INTEGER NOT NULL,
            PRIMARY KEY (project_id, hour, outcome, category, reason)
        ) WITHOUT ROWID;
        CREATE INDEX outcomes_hourly_hour ON outcomes_hourly (hour)
        """,
        // 15: what sentry-cli uploads from CI (issue 14). Releases created through the API per
        // project (`releases` holds what events say; this, what a person or CI job said: the
        // release's dates and URL), their deploys, upload chunks by SHA-1 (a table, not files in
        // the data directory, so PostgreSQL's instances share them; kept an hour after upload),
        // artifact bundles with one row per file (looked up by debug id, else by release, dist
        // and URL) and debug files. `dist` is '' for none, so the lookup is one equality.
        """
        CREATE TABLE release_records (
            project_id INTEGER NOT NULL,
            version TEXT NOT NULL,
            url TEXT,
            ref TEXT,
            date_created INTEGER NOT NULL,
            date_released INTEGER,
            PRIMARY KEY (project_id, version)
        ) WITHOUT ROWID;
        CREATE INDEX release_records_version ON release_records (version);
        CREATE TABLE deploys (
            id INTEGER PRIMARY KEY,
            version TEXT NOT NULL,
            environment TEXT NOT NULL,
            name TEXT,
            url TEXT,
            date_started INTEGER,
            date_finished INTEGER NOT NULL
        );
        CREATE INDEX deploys_version ON deploys (version, date_finished);
        CREATE TABLE upload_chunks (
            checksum TEXT PRIMARY KEY,
            size INTEGER NOT NULL,
            created INTEGER NOT NULL,
            content BLOB NOT NULL
        );
        CREATE INDEX upload_chunks_created ON upload_chunks (created);
        CREATE TABLE artifact_bundles (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            checksum TEXT NOT NULL,
            bundle_uuid TEXT NOT NULL,
            release TEXT,
            dist TEXT NOT NULL,
            file_count INTEGER NOT NULL,
            size INTEGER NOT NULL,
            created INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX artifact_bundles_checksum ON artifact_bundles (project_id, checksum);
        CREATE TABLE artifact_files (
            id INTEGER PRIMARY KEY,
            bundle_id INTEGER NOT NULL,
            project_id INTEGER NOT NULL,
            url TEXT NOT NULL,
            type TEXT NOT NULL,
            debug_id TEXT,
            headers TEXT NOT NULL,
            release TEXT,
            dist TEXT NOT NULL,
            content BLOB NOT NULL
        );
        CREATE INDEX artifact_files_bundle ON artifact_files (bundle_id);
        CREATE INDEX artifact_files_debug_id ON artifact_files (project_id, debug_id, type) WHERE debug_id IS NOT NULL;
        CREATE INDEX artifact_files_release ON artifact_files (project_id, release, dist, url) WHERE release IS NOT NULL;
        CREATE TABLE debug_files (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            checksum TEXT NOT NULL,
            debug_id TEXT NOT NULL,
            code_id TEXT,
            name TEXT NOT NULL,
            arch TEXT NOT NULL,
            object_type TEXT NOT NULL,
            size INTEGER NOT NULL,
            created INTEGER NOT NULL,
            content BLOB NOT NULL
        );
        CREATE UNIQUE INDEX debug_files_checksum ON debug_files (project_id, checksum);
        CREATE INDEX debug_files_debug_id ON debug_files (project_id, debug_id)
        """,
        // 16: alerts (issue 15). Channels (a sealed secret: `SecretBox`), rules with their
        // filters, each rule's state per issue (when it last fired, its event window), the users
        // a users rule counted, the per-project hourly ceiling, and the delivery outbox with every
        // attempt: deliveries are rows, not memory, so a restart resumes them and a failure is
        // never silently dropped. Times are milliseconds.
        """
        CREATE TABLE alert_channels (
            id INTEGER PRIMARY KEY,
            organization_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            kind TEXT NOT NULL,
            url TEXT NOT NULL,
            recipient TEXT,
            secret BLOB,
            digest_seconds INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE TABLE alert_rules (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            name TEXT NOT NULL,
            trigger TEXT NOT NULL,
            threshold INTEGER NOT NULL,
            window_seconds INTEGER NOT NULL,
            channel_id INTEGER NOT NULL,
            min_level INTEGER,
            environment TEXT,
            tag_key TEXT,
            tag_value TEXT,
            tag_match TEXT NOT NULL,
            title_contains TEXT,
            cooldown_seconds INTEGER NOT NULL,
            created_at INTEGER NOT NULL
        );
        CREATE INDEX alert_rules_project ON alert_rules (project_id);
        CREATE INDEX alert_rules_channel ON alert_rules (channel_id);
        CREATE TABLE alert_rule_state (
            rule_id INTEGER NOT NULL,
            issue_id INTEGER NOT NULL,
            last_fired_at INTEGER,
            window_start INTEGER NOT NULL,
            window_count INTEGER NOT NULL,
            PRIMARY KEY (rule_id, issue_id)
        ) WITHOUT ROWID;
        CREATE TABLE alert_rule_users (
            rule_id INTEGER NOT NULL,
            issue_id INTEGER NOT NULL,
            user_key TEXT NOT NULL,
            seen_at INTEGER NOT NULL,
            PRIMARY KEY (rule_id, issue_id, user_key)
        ) WITHOUT ROWID;
        CREATE TABLE alert_ceilings (
            project_id INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            sent INTEGER NOT NULL,
            suppressed INTEGER NOT NULL,
            last_suppressed_at INTEGER NOT NULL,
            PRIMARY KEY (project_id, hour)
        ) WITHOUT ROWID;
        CREATE TABLE alert_deliveries (
            id INTEGER PRIMARY KEY,
            channel_id INTEGER NOT NULL,
            rule_id INTEGER,
            project_id INTEGER,
            issue_id INTEGER,
            notification TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            next_attempt_at INTEGER,
            lease_until INTEGER,
            response_code INTEGER,
            latency_ms INTEGER,
            last_error TEXT,
            created_at INTEGER NOT NULL,
            delivered_at INTEGER,
            digest_id INTEGER
        );
        CREATE INDEX alert_deliveries_due ON alert_deliveries (status, next_attempt_at);
        CREATE INDEX alert_deliveries_channel ON alert_deliveries (channel_id, id);
        CREATE TABLE alert_delivery_attempts (
            id INTEGER PRIMARY KEY,
            delivery_id INTEGER NOT NULL,
            attempted_at INTEGER NOT NULL,
            response_code INTEGER,
            latency_ms INTEGER NOT NULL,
            error TEXT,
            next_attempt_at INTEGER,
            succeeded INTEGER NOT NULL
        );
        CREATE INDEX alert_delivery_attempts_delivery ON alert_delivery_attempts (delivery_id, id)
        """,
        // 17: sliding alert windows and metric conditions (issue 15). A frequency rule's events
        // per issue are counted in buckets of 1/60 of its window, so "N events in 1h" means the
        // last hour at any moment (the tumbling window that `alert_rule_state` kept missed a
        // burst split across two windows). A crash-free-rate rule's state (issue 15) records
        // whether its condition holds, so it notifies on the crossing, not on every pass.
        """
        CREATE TABLE alert_rule_buckets (
            rule_id INTEGER NOT NULL,
            issue_id INTEGER NOT NULL,
            bucket_start INTEGER NOT NULL,
            count INTEGER NOT NULL,
            PRIMARY KEY (rule_id, issue_id, bucket_start)
        ) WITHOUT ROWID;
        CREATE INDEX alert_rule_buckets_age ON alert_rule_buckets (bucket_start);
        ALTER TABLE alert_rule_state DROP COLUMN window_start;
        ALTER TABLE alert_rule_state DROP COLUMN window_count;
        ALTER TABLE alert_rule_state ADD COLUMN condition_active INTEGER NOT NULL DEFAULT 0;
        CREATE INDEX alert_rule_users_age ON alert_rule_users (seen_at);
        CREATE INDEX alert_deliveries_age ON alert_deliveries (created_at)
        """,
        // 18: performance monitoring (issue 13). One row per transaction (`transaction` items and
        // span v2 segments) and per span, lean: the columns the trace view and the pages query,
        // times in microseconds, ids as 16-byte blobs (trace, event) and 64-bit integers (span);
        // a transaction keeps its JSON compressed, as an event does, for the event detail API.
        // `transaction_minutes` and `transaction_hours` are the pre-aggregated metrics the
        // summary reads instead of rows: counts, failures, the count extrapolated by sample rate,
        // Apdex against the project's threshold (`projects.apdex_threshold_ms`), and the duration
        // histogram in fixed log buckets `h00`…`h47` (`DurationHistogram`), so percentiles of any
        // window are sums. Error events keep their trace id for the trace view.
        """
        ALTER TABLE events ADD COLUMN trace_id BLOB;
        ALTER TABLE events ADD COLUMN span_id INTEGER;
        CREATE INDEX events_trace ON events (trace_id) WHERE trace_id IS NOT NULL;
        ALTER TABLE projects ADD COLUMN apdex_threshold_ms INTEGER NOT NULL DEFAULT 300;
        CREATE TABLE transactions (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            event_id BLOB NOT NULL,
            trace_id BLOB NOT NULL,
            span_id INTEGER NOT NULL,
            parent_span_id INTEGER,
            name TEXT NOT NULL,
            op TEXT NOT NULL,
            status TEXT NOT NULL,
            start_us INTEGER NOT NULL,
            duration_us INTEGER NOT NULL,
            release TEXT,
            environment TEXT NOT NULL,
            platform TEXT,
            sample_rate REAL,
            measurements TEXT,
            received INTEGER NOT NULL,
            payload_size INTEGER NOT NULL,
            payload BLOB NOT NULL,
            dictionary_id INTEGER
        );
        CREATE UNIQUE INDEX transactions_event ON transactions (project_id, event_id);
        CREATE INDEX transactions_trace ON transactions (trace_id);
        CREATE INDEX transactions_project_received ON transactions (project_id, received);
        CREATE TABLE spans (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            trace_id BLOB NOT NULL,
            span_id INTEGER NOT NULL,
            parent_span_id INTEGER,
            segment_id INTEGER,
            op TEXT NOT NULL,
            description TEXT NOT NULL,
            status TEXT NOT NULL,
            start_us INTEGER NOT NULL,
            duration_us INTEGER NOT NULL
        );
        CREATE UNIQUE INDEX spans_trace ON spans (trace_id, span_id, project_id);
        CREATE INDEX spans_project_start ON spans (project_id, start_us);
        CREATE TABLE transaction_minutes (
            project_id INTEGER NOT NULL,
            minute INTEGER NOT NULL,
            name TEXT NOT NULL,
            release TEXT NOT NULL,
            environment TEXT NOT NULL,
            total INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            extrapolated REAL NOT NULL,
            satisfied INTEGER NOT NULL,
            tolerated INTEGER NOT NULL,
            duration_sum INTEGER NOT NULL,
            h00 INTEGER NOT NULL DEFAULT 0, h01 INTEGER NOT NULL DEFAULT 0, h02 INTEGER NOT NULL DEFAULT 0, h03 INTEGER NOT NULL DEFAULT 0,
            h04 INTEGER NOT NULL DEFAULT 0, h05 INTEGER NOT NULL DEFAULT 0, h06 INTEGER NOT NULL DEFAULT 0, h07 INTEGER NOT NULL DEFAULT 0,
            h08 INTEGER NOT NULL DEFAULT 0, h09 INTEGER NOT NULL DEFAULT 0, h10 INTEGER NOT NULL DEFAULT 0, h11 INTEGER NOT NULL DEFAULT 0,
            h12 INTEGER NOT NULL DEFAULT 0, h13 INTEGER NOT NULL DEFAULT 0, h14 INTEGER NOT NULL DEFAULT 0, h15 INTEGER NOT NULL DEFAULT 0,
            h16 INTEGER NOT NULL DEFAULT 0, h17 INTEGER NOT NULL DEFAULT 0, h18 INTEGER NOT NULL DEFAULT 0, h19 INTEGER NOT NULL DEFAULT 0,
            h20 INTEGER NOT NULL DEFAULT 0, h21 INTEGER NOT NULL DEFAULT 0, h22 INTEGER NOT NULL DEFAULT 0, h23 INTEGER NOT NULL DEFAULT 0,
            h24 INTEGER NOT NULL DEFAULT 0, h25 INTEGER NOT NULL DEFAULT 0, h26 INTEGER NOT NULL DEFAULT 0, h27 INTEGER NOT NULL DEFAULT 0,
            h28 INTEGER NOT NULL DEFAULT 0, h29 INTEGER NOT NULL DEFAULT 0, h30 INTEGER NOT NULL DEFAULT 0, h31 INTEGER NOT NULL DEFAULT 0,
            h32 INTEGER NOT NULL DEFAULT 0, h33 INTEGER NOT NULL DEFAULT 0, h34 INTEGER NOT NULL DEFAULT 0, h35 INTEGER NOT NULL DEFAULT 0,
            h36 INTEGER NOT NULL DEFAULT 0, h37 INTEGER NOT NULL DEFAULT 0, h38 INTEGER NOT NULL DEFAULT 0, h39 INTEGER NOT NULL DEFAULT 0,
            h40 INTEGER NOT NULL DEFAULT 0, h41 INTEGER NOT NULL DEFAULT 0, h42 INTEGER NOT NULL DEFAULT 0, h43 INTEGER NOT NULL DEFAULT 0,
            h44 INTEGER NOT NULL DEFAULT 0, h45 INTEGER NOT NULL DEFAULT 0, h46 INTEGER NOT NULL DEFAULT 0, h47 INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (project_id, minute, name, release, environment)
        ) WITHOUT ROWID;
        CREATE TABLE transaction_hours (
            project_id INTEGER NOT NULL,
            hour INTEGER NOT NULL,
            name TEXT NOT NULL,
            release TEXT NOT NULL,
            environment TEXT NOT NULL,
            total INTEGER NOT NULL,
            failures INTEGER NOT NULL,
            extrapolated REAL NOT NULL,
            satisfied INTEGER NOT NULL,
            tolerated INTEGER NOT NULL,
            duration_sum INTEGER NOT NULL,
            h00 INTEGER NOT NULL DEFAULT 0, h01 INTEGER NOT NULL DEFAULT 0, h02 INTEGER NOT NULL DEFAULT 0, h03 INTEGER NOT NULL DEFAULT 0,
            h04 INTEGER NOT NULL DEFAULT 0, h05 INTEGER NOT NULL DEFAULT 0, h06 INTEGER NOT NULL DEFAULT 0, h07 INTEGER NOT NULL DEFAULT 0,
            h08 INTEGER NOT NULL DEFAULT 0, h09 INTEGER NOT NULL DEFAULT 0, h10 INTEGER NOT NULL DEFAULT 0, h11 INTEGER NOT NULL DEFAULT 0,
            h12 INTEGER NOT NULL DEFAULT 0, h13 INTEGER NOT NULL DEFAULT 0, h14 INTEGER NOT NULL DEFAULT 0, h15 INTEGER NOT NULL DEFAULT 0,
            h16 INTEGER NOT NULL DEFAULT 0, h17 INTEGER NOT NULL DEFAULT 0, h18 INTEGER NOT NULL DEFAULT 0, h19 INTEGER NOT NULL DEFAULT 0,
            h20 INTEGER NOT NULL DEFAULT 0, h21 INTEGER NOT NULL DEFAULT 0, h22 INTEGER NOT NULL DEFAULT 0, h23 INTEGER NOT NULL DEFAULT 0,
            h24 INTEGER NOT NULL DEFAULT 0, h25 INTEGER NOT NULL DEFAULT 0, h26 INTEGER NOT NULL DEFAULT 0, h27 INTEGER NOT NULL DEFAULT 0,
            h28 INTEGER NOT NULL DEFAULT 0, h29 INTEGER NOT NULL DEFAULT 0, h30 INTEGER NOT NULL DEFAULT 0, h31 INTEGER NOT NULL DEFAULT 0,
            h32 INTEGER NOT NULL DEFAULT 0, h33 INTEGER NOT NULL DEFAULT 0, h34 INTEGER NOT NULL DEFAULT 0, h35 INTEGER NOT NULL DEFAULT 0,
            h36 INTEGER NOT NULL DEFAULT 0, h37 INTEGER NOT NULL DEFAULT 0, h38 INTEGER NOT NULL DEFAULT 0, h39 INTEGER NOT NULL DEFAULT 0,
            h40 INTEGER NOT NULL DEFAULT 0, h41 INTEGER NOT NULL DEFAULT 0, h42 INTEGER NOT NULL DEFAULT 0, h43 INTEGER NOT NULL DEFAULT 0,
            h44 INTEGER NOT NULL DEFAULT 0, h45 INTEGER NOT NULL DEFAULT 0, h46 INTEGER NOT NULL DEFAULT 0, h47 INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (project_id, hour, name, release, environment)
        ) WITHOUT ROWID
        """,
        // 19: JavaScript events held for their source maps (issue 14, `DeferredEvent`): an event
        // whose resolution missed its acknowledgement's deadline is acknowledged from here and
        // moved to `events` when its resolution finishes. A rowid table: the payloads are large.
        """
        CREATE TABLE deferred_events (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            event_id BLOB NOT NULL,
            timestamp INTEGER NOT NULL,
            received INTEGER NOT NULL,
            processing_errors TEXT,
            payload_size INTEGER NOT NULL,
            payload BLOB NOT NULL,
            lease_until INTEGER NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0
        );
        CREATE UNIQUE INDEX deferred_events_event ON deferred_events (project_id, event_id);
        CREATE INDEX deferred_events_lease ON deferred_events (lease_until)
        """,
        // 20: profiles (`profile` items, Sentry's sample format v1), one row per profile with the
        // columns that link it to its transaction and trace; the samples stay in the compressed
        // JSON, which only the flame graph and the profile API read. Purged with the events.
        """
        CREATE TABLE profiles (
            id INTEGER PRIMARY KEY,
            project_id INTEGER NOT NULL,
            profile_id BLOB NOT NULL,
            transaction_id BLOB NOT NULL,
            trace_id BLOB,
            platform TEXT NOT NULL,
            timestamp INTEGER NOT NULL,
            duration_us INTEGER NOT NULL,
            samples INTEGER NOT NULL,
            received INTEGER NOT NULL,
            payload_size INTEGER NOT NULL,
            payload BLOB NOT NULL
        );
        CREATE UNIQUE INDEX profiles_profile ON profiles (project_id, profile_id);
        CREATE INDEX profiles_transaction ON profiles (project_id, transaction_id);
        CREATE INDEX profiles_trace ON profiles (trace_id) WHERE trace_id IS NOT NULL;
        CREATE INDEX profiles_project_received ON profiles (project_id, received)
        """,
        // 21: the performance pages' samples (issue 13). `transactions_slowest` hands a
        // transaction name's slowest first, with `received` in the index so the window is
        // filtered without reading a row: the summary's slowest samples and the spans of its
        // span pages stay a short index walk however many transactions the name has.
        // `transactions_measurements` holds only the transactions with measurements (browser
        // page loads), so the Web Vitals page never steps over a backend's transactions.
        """
        CREATE INDEX transactions_slowest ON transactions (project_id, name, duration_us, received);
        CREATE INDEX transactions_measurements ON transactions (project_id, received) WHERE measurements IS NOT NULL
        """,
    ]

    /// Page size for new databases. Every commit writes each page it touched whole to the WAL,
    /// and the checkpoint copies it again, while an event changes a few hundred bytes of each:
    /// the random leaf of the event-id index, the tails of the other indexes, its issue's row.
    /// 8 KiB was chosen while event rows were ~1.2 KB compressed (only three fit a 4 KiB leaf);
    /// with the payload dictionary and the read view in the payload's frame they are ~600 B, and
    /// 4 KiB pages measured 35 % fewer bytes written per request and a lower p99, errors-only and
    /// with 50 % transactions (results/2026-12-03T0745Z-page-size). A database made with 8 KiB
    /// pages keeps them: SQLite changes the size of an existing file only by a full VACUUM.
    static let pageSize = 4096

    /// Creates or opens a database: page size (effective only while the file is empty), WAL, then
    /// the migrations.
    static func prepare(_ connection: SQLiteConnection, journalMode: StorageDurability.JournalMode = .wal) throws {
        try connection.execute("PRAGMA page_size=\(pageSize)")
        // Like the page size, only a new file takes this: the retention purge then hands free
        // pages back with `PRAGMA incremental_vacuum` while the server runs. A database created
        // before keeps auto_vacuum=NONE (free pages are reused by new events, the file never
        // shrinks) until `pitd vacuum` rebuilds it once, offline: switching needs a full VACUUM,
        // which would hold the write lock for minutes on a big file and need its size again free.
        try connection.execute("PRAGMA auto_vacuum=INCREMENTAL")
        try connection.execute("PRAGMA journal_mode=\(journalMode.rawValue)")
        try migrate(connection)
    }

    /// Applies the migrations the database has not seen yet, each in its own transaction.
    package static func migrate(_ connection: SQLiteConnection, through last: Int? = nil) throws {
        let current = Int(try connection.scalarInt("PRAGMA user_version") ?? 0)
        let target = min(last ?? migrations.count, migrations.count)
        guard current < target else { return }
        for version in current..<target {
            try connection.transaction {
                try connection.execute(migrations[version])
                try connection.execute("PRAGMA user_version = \(version + 1)")
            }
        }
    }
}
