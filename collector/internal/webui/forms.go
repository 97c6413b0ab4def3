package webui

import (
	"errors"
	"net/http"
)

// refused shows an API refusal on the page, with the form kept.
func refused(c *Ctx, err error, prefix string) (string, bool) {
	var ae *APIError
	if !errors.As(err, &ae) {
		return "", false
	}
	c.Status = ae.Status
	return c.T(prefix) + ": " + ae.Msg, true
}

// needOperator refuses a change by a user without the operator role
// before anything is read (the API would refuse it too).
func needOperator(c *Ctx) error {
	if !c.P.Can("operator") {
		return &APIError{Status: http.StatusForbidden, Msg: c.T("denied")}
	}
	return nil
}

// answer finishes a form's POST after its change through the API
// (err): on success a redirect to next with the flash message; when the
// API refused it, again shows the form once more with failKey's text and
// the API's reason, under the API's status; any other error is the
// handler's.
func (c *Ctx) answer(err error, next, flash, failKey string, again func(msg string) error) error {
	if err == nil {
		c.Redirect(next, flash)
		return nil
	}
	msg, ok := refused(c, err, failKey)
	if !ok {
		return err
	}
	return again(msg)
}
