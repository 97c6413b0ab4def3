package notify

// Build makes the configured notifiers, by name (with the default HTTP
// client).
func Build(cfgs []Config) (map[string]Notifier, error) {
	out := make(map[string]Notifier, len(cfgs))
	for _, c := range cfgs {
		n, err := New(c, nil) // its errors name the notifier
		if err != nil {
			return nil, err
		}
		out[c.Name] = n
	}
	return out, nil
}
