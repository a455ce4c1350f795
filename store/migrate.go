package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"

	"github.com/pressly/goose/v3"

	"github.com/smartlic/smartlic"
)

//go:embed migrations
var migrations embed.FS

// migrate brings the schema up to the newest embedded migration, refusing a
// database that a newer smartlic has already moved past: this binary would
// misread tables it does not know the shape of.
func (db *DB) migrate(ctx context.Context) error {
	fsys, err := fs.Sub(migrations, "migrations/"+db.d.name)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	opts := []goose.ProviderOption{goose.WithDisableGlobalRegistry(true)}
	if db.d.migrationLock != nil {
		opts = append(opts, goose.WithSessionLocker(db.d.migrationLock))
	}
	p, err := goose.NewProvider(db.d.goose, db.write, fsys, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	sources := p.ListSources()
	newest := sources[len(sources)-1].Version
	current, err := p.GetDBVersion(ctx)
	if err != nil {
		return fmt.Errorf("store: reading the schema version: %w", err)
	}
	if current > newest {
		return smartlic.Errorf(smartlic.ESchemaTooNew, "",
			"database schema version %d is newer than this smartlic binary supports (%d); upgrade smartlic", current, newest)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrating the schema to version %d: %w", newest, err)
	}
	return nil
}
