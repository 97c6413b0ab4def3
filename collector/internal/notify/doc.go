// Package notify formats one alert notification for a chat system or
// endpoint and sends it with one HTTP request, telling the caller (the
// durable outbox) whether a failure is worth retrying.
//
// # Types
//
// A Config (one entry under `notifiers:` in collector.yml) has one of
// these types; New turns it into a Notifier. Example returns a documented
// YAML example of each.
//
//   - telegram: Bot API sendMessage in HTML parse mode: the title in bold,
//     the text, and a "Dashboard" link. <, > and & of the (untrusted) text
//     are escaped, and the text is cut to Telegram's 4096 characters
//     (counted in UTF-16 units before entity parsing, so conservatively),
//     ending with "…" and never inside an entity.
//   - slack: an incoming webhook (Mattermost and Rocket.Chat accept it
//     too), {"text": ...} in mrkdwn with <, > and & escaped, so the text
//     cannot form a link or an @channel mention.
//   - discord: a channel webhook; allowed_mentions is empty, so the text
//     pings no one, and the content is cut to 2000 characters.
//   - googlechat: a space webhook, {"text": ...}; Google Chat has no escape
//     for its <...> syntax, so a zero-width space follows every "<" of the
//     text (it cannot mention <users/all>).
//   - teams: an Adaptive Card for a Teams Workflows webhook, the title
//     coloured by status and severity.
//   - webhook: a versioned JSON document, optionally HMAC-signed (below).
//   - http: any HTTP API, such as a WhatsApp gateway: the method, the URL,
//     the header values and the body are text/template templates over the
//     Message (.Title .Text .Status .Severity .Labels .StartsAt .EndsAt .ID
//     .URL). The function json quotes a value for a JSON body ({"message":
//     {{json .Text}}}) and urlquery escapes one for a form body
//     (message={{urlquery .Text}}). A JSON body is checked to be valid JSON
//     before it is sent, and Validate renders every template for a sample
//     alert whose text holds quotes, newlines, < and &, so a template that
//     does not quote its values fails at check-config, not at 3 a.m.
//   - alertmanager: POST {url}/api/v2/alerts with one alert, so an existing
//     Alertmanager routes it. A firing alert's endsAt is 24 h after the
//     send (Alertmanager would otherwise resolve it by itself after its
//     resolve_timeout); repeats refresh it, and the resolved message ends it.
//
// JSON bodies are compact, without HTML escaping ("<" is sent as "<", not
// \u003c) and without a trailing newline. Every request has the header
// User-Agent: pantau-collector, and every Send is bounded by the
// notifier's timeout (default 10s) even when the caller's context has no
// deadline. The default client follows no redirect: a redirect would carry
// the body and the configured headers elsewhere, so a 3xx is a permanent
// failure that asks for the final URL.
//
// # Outcome
//
// Send returns nil when the endpoint answered 2xx (for Telegram: and not
// {"ok":false}), else an *Error:
//
//   - 408, 429, 5xx, a network error or a timeout: retryable
//     (Permanent false); Status is 0 for a network error or timeout.
//   - any other status (4xx, 3xx), or a message that cannot be built (an
//     http template that fails or renders invalid JSON): Permanent.
//   - RetryAfter is Telegram's parameters.retry_after, else the
//     Retry-After header (seconds or an HTTP date), capped at 24h.
//   - Telegram's {"ok":false} answers give Status error_code and Msg
//     "telegram: " + description.
//
// Only the first 64 KiB of a response are read.
//
// # Verifying a webhook
//
// A webhook notifier with a secret sends X-Pantau-Timestamp (unix
// seconds) and X-Pantau-Signature: "sha256=" followed by the lowercase hex
// HMAC-SHA256, keyed with the secret, of the timestamp, a dot and the raw
// body. The receiver recomputes it over the body exactly as received and
// compares in constant time, and rejects a timestamp more than a few
// minutes from its clock (a replay); the body's "id" is stable across
// retries, for deduplication. In Go:
//
//	ts, err := strconv.ParseInt(r.Header.Get("X-Pantau-Timestamp"), 10, 64)
//	ok := err == nil &&
//		hmac.Equal([]byte(r.Header.Get("X-Pantau-Signature")), []byte(notify.Sign(secret, ts, body))) &&
//		time.Since(time.Unix(ts, 0)).Abs() < 5*time.Minute
//
// or in a shell: printf '%s.%s' "$ts" "$body" | openssl dgst -sha256 -hmac "$secret".
//
// # Secrets
//
// Bot tokens, webhook URLs (their path and query are the credential), the
// webhook secret and header values are secrets. They never appear in an
// error (from Send, New or Validate), in String or GoString of a Config or
// Notifier, nor in the cause an *Error unwraps to: a URL is only ever shown
// as scheme://host, Go's *url.Error (which quotes the whole URL) is never
// wrapped, and any text from the endpoint is scrubbed of every secret
// value before it is quoted. This package does not log.
package notify
