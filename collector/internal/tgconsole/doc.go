// Package tgconsole answers commands of on-call engineers in a Telegram
// group: the collector long-polls the Bot API (getUpdates, outbound only,
// so it works behind NAT) and replies with sendMessage.
//
// # Commands
//
//   - /status: what is down or alerting now, grouped by district.
//   - /site <id>: the links and the last outage of one site.
//   - /ack <id>: acknowledge a firing alert by a prefix (at least 4
//     characters) of its id, as shown by /status.
//   - /silence <site> <duration> <reason...>: hold back a site's alerts
//     for 30m, 2h, 1h30m, 1d, … (at most 7d).
//   - /help (also /start); any other command gets a short help.
//
// A "@bot" suffix (/status@PantauBot) is accepted; once the bot's own name
// is known (getMe), commands addressed to another bot are ignored. Texts
// that are not commands, and words that only look like one (/var/log), are
// ignored silently.
//
// # Access
//
// Only chats in AllowedChats may command, and when AllowedUsers is set,
// only those users. A command from another chat gets no answer at all (the
// bot does not reveal itself to strangers) and is logged at warn; a user
// who is not allowed in an allowed chat gets a refusal, also logged at
// warn. Accepted commands are logged at info with their author (chat id,
// user id, username).
//
// # Bot API
//
// getUpdates asks only for messages and always moves its offset past every
// update received, so nothing is handled twice. Failures are logged and
// retried with full jitter (the n-th wait in a row between 1s and 1s·2ⁿ⁻¹,
// at most 1 min), or after Telegram's retry_after when longer (at most an
// hour); a 409 Conflict means another process polls the same bot or a
// webhook is set. The token is part of every request path, so it is never
// logged: errors name the method and the host only.
//
// Replies are in Telegram's HTML parse mode with &, < and > of every
// dynamic text escaped, in Bahasa Indonesia (Lang "id") or English ("en"),
// and stay within the 4096-character limit ("… dan N lainnya").
package tgconsole
