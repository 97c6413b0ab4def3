package collector

import (
	"github.com/pantau-noc/pantau/collector/internal/httpapi"
	"github.com/pantau-noc/pantau/collector/internal/inventory"
)

// adminAPI is the admin part of the records API (tokens, users, the
// audit log, the inventory), on the daemon's stores: a token change
// reloads the credential cache, and an inventory PUT puts the new
// inventory in force at once (the 10-second file check then finds the
// same file).
func (p *parts) adminAPI() *httpapi.Admin {
	a := httpapi.NewAdmin(httpapi.AdminOptions{
		DB:                p.state,
		Auth:              p.auth,
		InventoryFile:     p.slarun.inventoryFile,
		Inventory:         p.slarun.builder.Inventory,
		SetInventory:      func(inv *inventory.Inventory) { p.slarun.setInventory(inv) },
		MaxInventoryBytes: p.cfg.Auth.MaxInventoryBytes,
		Logger:            p.log.With("component", "admin-api"),
	})
	p.reg.MustRegister(a.Collectors()...)
	p.admin = a
	return a
}
