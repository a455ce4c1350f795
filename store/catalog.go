package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// Signing keys.

func (t *tx) InsertSigningKey(ctx context.Context, k smartlic.SigningKey) error {
	_, err := t.exec(ctx, stInsertSigningKey, k.ID, k.Algorithm, k.PublicKey, t.db.sealPrivateKey(k.ID, k.PrivateKey), micros(k.CreatedAt), nullMicros(k.RetiresAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a signing key", noun: "signing key", id: k.ID})
	}
	return nil
}

func (t *tx) ListSigningKeys(ctx context.Context) ([]smartlic.SigningKey, error) {
	rows, err := t.query(ctx, stListSigningKeys)
	return collect(rows, err, func(r scanner) (smartlic.SigningKey, error) {
		k, err := scanSigningKey(r)
		if err == nil {
			if k.PrivateKey, err = t.db.openPrivateKey(k.ID, k.PrivateKey); err != nil {
				err = fmt.Errorf("signing key %s: %w", k.ID, err)
			}
		}
		return k, err
	}, "listing signing keys")
}

func scanSigningKey(r scanner) (smartlic.SigningKey, error) {
	var k smartlic.SigningKey
	var created int64
	var retires sql.NullInt64
	err := r.Scan(&k.ID, &k.Algorithm, &k.PublicKey, &k.PrivateKey, &created, &retires)
	k.CreatedAt, k.RetiresAt = fromMicros(created), fromNullMicros(retires)
	return k, err
}

// API keys.

func (t *tx) InsertAPIKey(ctx context.Context, k smartlic.APIKey) error {
	_, err := t.exec(ctx, stInsertAPIKey, k.ID, k.Email, k.Role, k.Hash, micros(k.CreatedAt), nullMicros(k.LastUsedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing an API key", noun: "API key", field: "hash", id: k.ID})
	}
	return nil
}

func (t *tx) GetAPIKeyByHash(ctx context.Context, hash string) (smartlic.APIKey, error) {
	return one(t.queryRow(ctx, stGetAPIKeyByHash, hash), scanAPIKey, "reading an API key", func() error {
		return smartlic.NotFound("API key not found") // the hash stays out of messages
	})
}

func (t *tx) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	ok, err := t.execOne(ctx, stTouchAPIKey, micros(at), id)
	if err != nil {
		return smartlic.Internal(err, "recording an API key's use")
	}
	if !ok {
		return smartlic.NotFound("API key %q not found", id)
	}
	return nil
}

func scanAPIKey(r scanner) (smartlic.APIKey, error) {
	var k smartlic.APIKey
	var created int64
	var used sql.NullInt64
	err := r.Scan(&k.ID, &k.Email, &k.Role, &k.Hash, &created, &used)
	k.CreatedAt, k.LastUsedAt = fromMicros(created), fromNullMicros(used)
	return k, err
}

// License types.

func (t *tx) InsertLicenseType(ctx context.Context, lt smartlic.LicenseType) error {
	_, err := t.exec(ctx, stInsertLicenseType, lt.ID, lt.Tag, lt.Name, lt.Description, string(lt.Term), string(lt.Enforcement), micros(lt.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a license type", noun: "license type", field: "tag", value: lt.Tag, id: lt.ID})
	}
	return nil
}

func (t *tx) GetLicenseType(ctx context.Context, idOrTag string) (smartlic.LicenseType, error) {
	return one(t.queryRow(ctx, stGetLicenseType, idOrTag, idOrTag, idOrTag), scanLicenseType, "reading a license type", func() error {
		return smartlic.NotFound("license type %q not found", idOrTag)
	})
}

func (t *tx) ListLicenseTypes(ctx context.Context, p smartlic.Page) ([]smartlic.LicenseType, error) {
	rows, err := t.query(ctx, stListLicenseTypes, p.After, limit(p))
	return collect(rows, err, scanLicenseType, "listing license types")
}

func (t *tx) DeleteLicenseType(ctx context.Context, id string) error {
	t.changes |= catalogChange
	ok, err := t.execOne(ctx, stDeleteLicenseType, id)
	switch {
	case err != nil && t.inUse(err):
		return smartlic.Errorf(smartlic.EConflict, "license_type", "license type %q is used by products, deposits or instances", id)
	case err != nil:
		return smartlic.Internal(err, "deleting a license type")
	case !ok:
		return smartlic.NotFound("license type %q not found", id)
	}
	return nil
}

func (t *tx) LicenseTypeInUse(ctx context.Context, id string) (bool, error) {
	var used bool
	if err := t.queryRow(ctx, stLicenseTypeInUse, id, id, id, id).Scan(&used); err != nil {
		return false, smartlic.Internal(err, "checking whether a license type is in use")
	}
	return used, nil
}

func scanLicenseType(r scanner) (smartlic.LicenseType, error) {
	var lt smartlic.LicenseType
	var created int64
	err := r.Scan(&lt.ID, &lt.Tag, &lt.Name, &lt.Description, &lt.Term, &lt.Enforcement, &created)
	lt.CreatedAt = fromMicros(created)
	return lt, err
}

// Products.

func (t *tx) InsertProduct(ctx context.Context, p smartlic.Product) error {
	_, err := t.exec(ctx, stInsertProduct, p.ID, p.PID, p.Name, p.Description, micros(p.CreatedAt))
	if err != nil {
		return t.writeErr(err, about{what: "storing a product", noun: "product", field: "pid", value: p.PID, id: p.ID})
	}
	return t.linkLicenseTypes(ctx, p.ID, p.LicenseTypes)
}

func (t *tx) UpdateProduct(ctx context.Context, p smartlic.Product) error {
	t.changes |= scopeChange | catalogChange
	ok, err := t.execOne(ctx, stUpdateProduct, p.PID, p.Name, p.Description, p.ID)
	if err != nil {
		return t.writeErr(err, about{what: "updating a product", noun: "product", field: "pid", value: p.PID, id: p.ID})
	}
	if !ok {
		return smartlic.NotFound("product %q not found", p.ID)
	}
	if _, err := t.exec(ctx, stDeleteProductLicenseTypes, p.ID); err != nil {
		return smartlic.Internal(err, "updating a product's license types")
	}
	return t.linkLicenseTypes(ctx, p.ID, p.LicenseTypes)
}

// linkLicenseTypes records the license types, given by tag, that a product
// may consume.
func (t *tx) linkLicenseTypes(ctx context.Context, productID string, tags []string) error {
	for i, tag := range tags {
		if slices.Contains(tags[:i], tag) {
			return smartlic.Invalid("license_types", "lists %q twice", tag)
		}
		linked, err := t.execOne(ctx, stInsertProductLicenseType, productID, tag)
		if err != nil {
			return smartlic.Internal(err, "linking a product to a license type")
		}
		if !linked {
			return smartlic.Invalid("license_types", "unknown license type %q", tag)
		}
	}
	return nil
}

func (t *tx) GetProduct(ctx context.Context, idOrPID string) (smartlic.Product, error) {
	return one(t.queryRow(ctx, stGetProduct, idOrPID, idOrPID), func(r scanner) (smartlic.Product, error) {
		var tags sql.NullString
		p, err := scanProduct(r, &tags)
		if tags.Valid {
			p.LicenseTypes = strings.Split(tags.String, ",")
		}
		return p, err
	}, "reading a product", func() error { return smartlic.NotFound("product %q not found", idOrPID) })
}

func (t *tx) ListProducts(ctx context.Context, page smartlic.Page) ([]smartlic.Product, error) {
	const what = "listing products"
	rows, err := t.query(ctx, stListProducts, page.After, limit(page))
	products, err := collect(rows, err, func(r scanner) (smartlic.Product, error) { return scanProduct(r) }, what)
	if err != nil || len(products) == 0 {
		return products, err
	}
	// The page's license types in one query rather than one per product.
	index := make(map[string]int, len(products))
	ids := make([]any, len(products))
	for i, p := range products {
		index[p.ID], ids[i] = i, p.ID
	}
	rows, err = t.queryBuilt(ctx, `SELECT plt.product_id, lt.tag FROM product_license_types plt
		JOIN license_types lt ON lt.id = plt.license_type_id
		WHERE plt.product_id IN (`+inList(len(ids))+`) ORDER BY plt.product_id, lt.tag`, ids...)
	if err != nil {
		return nil, smartlic.Internal(err, what)
	}
	defer rows.Close()
	for rows.Next() {
		var id, tag string
		if err := rows.Scan(&id, &tag); err != nil {
			return nil, smartlic.Internal(err, what)
		}
		p := &products[index[id]]
		p.LicenseTypes = append(p.LicenseTypes, tag)
	}
	if err := rows.Err(); err != nil {
		return nil, smartlic.Internal(err, what)
	}
	return products, nil
}

func (t *tx) DeleteProduct(ctx context.Context, id string) error {
	t.changes |= scopeChange | catalogChange
	ok, err := t.execOne(ctx, stDeleteProduct, id)
	switch {
	case err != nil && t.inUse(err):
		return smartlic.Errorf(smartlic.EConflict, "product", "product %q has registered instances", id)
	case err != nil:
		return smartlic.Internal(err, "deleting a product")
	case !ok:
		return smartlic.NotFound("product %q not found", id)
	}
	return nil
}

func (t *tx) ProductInUse(ctx context.Context, id string) (bool, error) {
	var used bool
	if err := t.queryRow(ctx, stProductInUse, id).Scan(&used); err != nil {
		return false, smartlic.Internal(err, "checking whether a product is in use")
	}
	return used, nil
}

// scanProduct reads a product row and any extra columns after it. The
// license types start empty, not missing: a product may consume none.
func scanProduct(r scanner, extra ...any) (smartlic.Product, error) {
	var p smartlic.Product
	var created int64
	err := r.Scan(append([]any{&p.ID, &p.PID, &p.Name, &p.Description, &created}, extra...)...)
	p.CreatedAt, p.LicenseTypes = fromMicros(created), []string{}
	return p, err
}
