package store_test

import (
	"strings"
	"sync"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
)

func TestPostgres(t *testing.T) {
	storetest.Run(t, func(t *testing.T) smartlic.Store { return storetest.OpenPostgres(t) })
}

func TestPostgresSchemaTooNew(t *testing.T) {
	testSchemaTooNew(t, storetest.PostgresDSN(t), "($1, $2)")
}

func TestPostgresReopen(t *testing.T) {
	testReopen(t, storetest.PostgresDSN(t))
}

// TestPostgresReplicasMigrateTogether starts several replicas on one fresh
// schema at once: the migration lock must let exactly one create the
// tables while the others wait, and all must come up.
func TestPostgresReplicasMigrateTogether(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	const replicas = 4
	errs := make([]error, replicas)
	dbs := make([]*store.DB, replicas)
	var wg sync.WaitGroup
	for i := range replicas {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dbs[i], errs[i] = store.Open(t.Context(), dsn)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
			continue
		}
		dbs[i].Close()
	}
}

func TestPostgresBadDSN(t *testing.T) {
	const secret = "s3cr3t-password"
	for _, dsn := range []string{
		"postgres://user:" + secret + "@host:notaport/db",
		"postgres://user:" + secret + "@127.0.0.1:5432/db?pool_max_conns=many",
		"postgres://user:" + secret + "@127.0.0.1:1/db?connect_timeout=5", // nothing listens there
	} {
		db, err := store.Open(t.Context(), dsn)
		if err == nil {
			db.Close()
			t.Errorf("Open accepted a bad URL")
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error %q reveals the password", err)
		}
	}
}
