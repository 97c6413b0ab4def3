package tgconsole

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"
)

// command is a parsed "/name@bot arg...".
type command struct {
	name string   // lowercase ASCII letters, digits and '_'
	bot  string   // the @bot suffix without '@'; "" none
	args []string // the words after the command
}

// maxCommand is Telegram's longest command name.
const maxCommand = 32

// parseCommand parses a message text. ok is false when the text is not a
// command: it does not start with '/', or the first word is not a valid
// command name (such as a path, "/var/log is full"), which is ignored.
func parseCommand(text string) (cmd command, ok bool) {
	fields := strings.Fields(text)
	if len(fields) == 0 || !strings.HasPrefix(fields[0], "/") {
		return command{}, false
	}
	name, bot, hasBot := strings.Cut(fields[0][1:], "@")
	if name == "" || len(name) > maxCommand || hasBot && !validBotName(bot) {
		return command{}, false
	}
	b := []byte(name)
	for i, ch := range b {
		switch {
		case ch >= 'A' && ch <= 'Z':
			b[i] = ch + 'a' - 'A'
		case ch >= 'a' && ch <= 'z', ch >= '0' && ch <= '9', ch == '_':
		default:
			return command{}, false
		}
	}
	return command{name: string(b), bot: bot, args: fields[1:]}, true
}

// validBotName reports whether s can be a Telegram username (5 to 32
// letters, digits or '_').
func validBotName(s string) bool {
	if len(s) < 5 || len(s) > 32 {
		return false
	}
	for _, ch := range []byte(s) {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '_') {
			return false
		}
	}
	return true
}

// maxSilence is the longest /silence.
const maxSilence = 7 * 24 * time.Hour

// parseSilenceDuration parses a /silence duration: days, hours and
// minutes in that order, each at most once ("30m", "2h", "1h30m", "1d",
// "1d12h"; case-insensitive). It is positive and at most 7 days.
func parseSilenceDuration(s string) (time.Duration, bool) {
	units := [...]struct {
		c byte
		d time.Duration
	}{{'d', 24 * time.Hour}, {'h', time.Hour}, {'m', time.Minute}}
	s = strings.ToLower(s)
	if s == "" {
		return 0, false
	}
	var total time.Duration
	next := 0 // index of the smallest unit still allowed
	for s != "" {
		i := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == 0 || i > 6 || i == len(s) {
			return 0, false
		}
		n, err := strconv.Atoi(s[:i])
		if err != nil {
			return 0, false
		}
		k := next
		for k < len(units) && units[k].c != s[i] {
			k++
		}
		if k == len(units) || time.Duration(n) > maxSilence/units[k].d {
			return 0, false
		}
		total += time.Duration(n) * units[k].d
		next = k + 1
		s = s[i+1:]
	}
	if total <= 0 || total > maxSilence {
		return 0, false
	}
	return total, true
}

// author names the sender for Ack and Silence: "@username", else
// "first_name (id)".
func author(u *user) string {
	switch {
	case u == nil:
		return "unknown (0)"
	case u.Username != "":
		return "@" + u.Username
	case u.FirstName != "":
		return u.FirstName + " (" + strconv.FormatInt(u.ID, 10) + ")"
	default:
		return "(" + strconv.FormatInt(u.ID, 10) + ")"
	}
}

// handleMessage answers one message if it is a command from an allowed
// chat and sender.
func (c *Console) handleMessage(ctx context.Context, m *message) {
	cmd, ok := parseCommand(m.Text)
	if !ok {
		return
	}
	if cmd.bot != "" && c.botName != "" && !strings.EqualFold(cmd.bot, c.botName) {
		c.log.Debug("telegram command for another bot ignored", "command", cmd.name, "bot", cmd.bot, "chat_id", m.Chat.ID)
		return
	}
	var uid int64
	var username string
	if m.From != nil {
		uid, username = m.From.ID, m.From.Username
	}
	attrs := []any{
		"command", cmd.name, "args", cmd.args,
		"chat_id", m.Chat.ID, "chat_title", m.Chat.Title,
		"user_id", uid, "username", username, "author", author(m.From),
	}
	if !c.chats[m.Chat.ID] {
		// No answer: a stranger learns nothing from the bot.
		c.log.Warn("telegram command refused: chat not allowed (no reply)", attrs...)
		return
	}
	if len(c.users) > 0 && !c.users[uid] {
		c.log.Warn("telegram command refused: user not allowed", attrs...)
		c.reply(ctx, m, c.tr("Maaf, Anda tidak berwenang memberi perintah ke Pantau.", "Sorry, you are not allowed to command Pantau."))
		return
	}
	c.log.Info("telegram command", attrs...)
	text, ok := c.execute(ctx, cmd, author(m.From))
	if ok {
		c.reply(ctx, m, text)
	}
}

// execute runs cmd and returns the reply; ok is false when there is none
// to send (the console is stopping).
func (c *Console) execute(ctx context.Context, cmd command, who string) (text string, ok bool) {
	bctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	failed := func(err error) (string, bool) {
		if ctx.Err() != nil {
			return "", false
		}
		c.log.Error("telegram command failed", "command", cmd.name, "args", cmd.args, "author", who, "err", err)
		return c.tr("Terjadi kesalahan; lihat log collector.", "Something went wrong; see the collector's log."), true
	}
	switch cmd.name {
	case "status":
		ps, err := c.backend.Down(bctx)
		if err != nil {
			return failed(err)
		}
		return c.formatStatus(ps), true

	case "site":
		if len(cmd.args) < 1 {
			return c.usageSite(), true
		}
		id := cmd.args[0]
		st, err := c.backend.Site(bctx, id)
		switch {
		case errors.Is(err, ErrNotFound):
			return c.siteNotFound(id), true
		case err != nil:
			return failed(err)
		}
		return c.formatSite(st), true

	case "ack":
		if len(cmd.args) < 1 || len([]rune(cmd.args[0])) < 4 {
			return c.usageAck(), true
		}
		id := cmd.args[0]
		p, err := c.backend.Ack(bctx, id, who)
		switch {
		case errors.Is(err, ErrAmbiguous):
			return c.trf("Id <code>%s</code> cocok dengan beberapa peringatan; ketik lebih banyak karakter (lihat /status).",
				"Id <code>%s</code> matches several alerts; type more characters (see /status).", esc(clip(id, 64))), true
		case errors.Is(err, ErrNotFound):
			return c.trf("Tidak ada peringatan aktif dengan id <code>%s</code>.",
				"No firing alert with id <code>%s</code>.", esc(clip(id, 64))), true
		case err != nil:
			return failed(err)
		}
		return c.trf("✔ Di-ack oleh %s: %s", "✔ Acknowledged by %s: %s", esc(who), esc(clip(p.Title, maxTitle))), true

	case "silence":
		if len(cmd.args) < 3 {
			return c.usageSilence(), true
		}
		site := cmd.args[0]
		d, valid := parseSilenceDuration(cmd.args[1])
		if !valid {
			return c.trf("Durasi <code>%s</code> tidak valid.\n", "Invalid duration <code>%s</code>.\n", esc(clip(cmd.args[1], 32))) + c.usageSilence(), true
		}
		reason := strings.Join(cmd.args[2:], " ")
		id, err := c.backend.Silence(bctx, site, d, reason, who)
		switch {
		case errors.Is(err, ErrNotFound):
			return c.siteNotFound(site), true
		case err != nil:
			return failed(err)
		}
		return c.trf("🔕 Peringatan lokasi %s dibungkam %s oleh %s (id %d): %s",
			"🔕 Alerts of site %s silenced for %s by %s (id %d): %s",
			esc(clip(site, 64)), FormatDuration(d, c.lang), esc(who), id, esc(clip(reason, maxReason))), true

	case "help", "start":
		return c.help(), true

	default:
		return c.trf("Perintah /%s tidak dikenal.\n\n", "Unknown command /%s.\n\n", cmd.name) + c.help(), true
	}
}
