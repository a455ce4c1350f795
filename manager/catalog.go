package manager

import (
	"context"
	"fmt"

	"github.com/smartlic/smartlic"
)

// CreateLicenseType adds a license type to the catalogue.
func (m *Manager) CreateLicenseType(ctx context.Context, lt smartlic.LicenseType) (smartlic.LicenseType, error) {
	if lt.Enforcement == "" {
		lt.Enforcement = smartlic.Unenforced
	}
	if err := lt.Validate(); err != nil {
		return lt, err
	}
	lt.ID, lt.CreatedAt = newID(), m.clock.Now()
	return lt, m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermCatalogManage, nil, nil); err != nil {
			return err
		}
		if err := tx.InsertLicenseType(ctx, lt); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "license_type.created", Subject: lt.ID, Message: fmt.Sprintf("license type %s (%s) created", lt.Tag, lt.Name), After: eventData(lt)})
	})
}

// GetLicenseType finds a license type by id or tag.
func (m *Manager) GetLicenseType(ctx context.Context, idOrTag string) (lt smartlic.LicenseType, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		lt, err = tx.GetLicenseType(ctx, idOrTag)
		return err
	})
	return lt, err
}

// ListLicenseTypes lists the catalogue's license types.
func (m *Manager) ListLicenseTypes(ctx context.Context, p smartlic.Page) ([]smartlic.LicenseType, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.LicenseType
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		out, err = tx.ListLicenseTypes(ctx, p)
		return err
	})
	out, next := cutPage(p, out, func(lt smartlic.LicenseType) string { return lt.ID })
	return out, next, err
}

// DeleteLicenseType removes a license type nothing refers to.
func (m *Manager) DeleteLicenseType(ctx context.Context, idOrTag string) error {
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermCatalogManage, nil, nil); err != nil {
			return err
		}
		lt, err := tx.GetLicenseType(ctx, idOrTag)
		if err != nil {
			return err
		}
		used, err := tx.LicenseTypeInUse(ctx, lt.ID)
		if err != nil {
			return err
		}
		if used {
			return smartlic.Errorf(smartlic.EConflict, "license_type", "license type %q is used by products, deposits or instances", lt.Tag)
		}
		if err := tx.DeleteLicenseType(ctx, lt.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "license_type.deleted", Subject: lt.ID, Message: fmt.Sprintf("license type %s deleted", lt.Tag), Before: eventData(lt)})
	})
}

// CreateProduct adds a product that may consume the listed license types.
func (m *Manager) CreateProduct(ctx context.Context, p smartlic.Product) (smartlic.Product, error) {
	if p.LicenseTypes == nil {
		p.LicenseTypes = []string{}
	}
	if err := p.Validate(); err != nil {
		return p, err
	}
	p.ID, p.CreatedAt = newID(), m.clock.Now()
	err := m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermCatalogManage, nil, nil); err != nil {
			return err
		}
		if err := tx.InsertProduct(ctx, p); err != nil {
			return err
		}
		var err error
		if p, err = tx.GetProduct(ctx, p.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "product.created", Subject: p.ID, Message: fmt.Sprintf("product %s (%s) created", p.PID, p.Name), After: eventData(p)})
	})
	return p, err
}

// GetProduct finds a product by id or PID.
func (m *Manager) GetProduct(ctx context.Context, idOrPID string) (p smartlic.Product, err error) {
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		p, err = tx.GetProduct(ctx, idOrPID)
		return err
	})
	return p, err
}

// ListProducts lists the catalogue's products.
func (m *Manager) ListProducts(ctx context.Context, p smartlic.Page) ([]smartlic.Product, string, error) {
	p, err := fetchPage(p)
	if err != nil {
		return nil, "", err
	}
	var out []smartlic.Product
	err = m.st.Read(ctx, func(tx smartlic.Tx) error {
		out, err = tx.ListProducts(ctx, p)
		return err
	})
	out, next := cutPage(p, out, func(p smartlic.Product) string { return p.ID })
	return out, next, err
}

// UpdateProduct changes a product's name, description or license types.
func (m *Manager) UpdateProduct(ctx context.Context, idOrPID string, u smartlic.ProductUpdate) (p smartlic.Product, err error) {
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermCatalogManage, nil, nil); err != nil {
			return err
		}
		if p, err = tx.GetProduct(ctx, idOrPID); err != nil {
			return err
		}
		before := p
		if u.Name != nil {
			p.Name = *u.Name
		}
		if u.Description != nil {
			p.Description = *u.Description
		}
		if u.LicenseTypes != nil {
			p.LicenseTypes = *u.LicenseTypes
		}
		if err := p.Validate(); err != nil {
			return err
		}
		if err := tx.UpdateProduct(ctx, p); err != nil {
			return err
		}
		if p, err = tx.GetProduct(ctx, p.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "product.updated", Subject: p.ID, Message: fmt.Sprintf("product %s updated", p.PID), Before: eventData(before), After: eventData(p)})
	})
	return p, err
}

// DeleteProduct removes a product no instance is registered as.
func (m *Manager) DeleteProduct(ctx context.Context, idOrPID string) error {
	return m.st.Write(ctx, func(tx smartlic.Tx) error {
		if err := m.authorize(ctx, tx, PermCatalogManage, nil, nil); err != nil {
			return err
		}
		p, err := tx.GetProduct(ctx, idOrPID)
		if err != nil {
			return err
		}
		used, err := tx.ProductInUse(ctx, p.ID)
		if err != nil {
			return err
		}
		if used {
			return smartlic.Errorf(smartlic.EConflict, "product", "product %q has registered instances", p.PID)
		}
		if err := tx.DeleteProduct(ctx, p.ID); err != nil {
			return err
		}
		return m.record(ctx, tx, smartlic.Event{Type: "product.deleted", Subject: p.ID, Message: fmt.Sprintf("product %s deleted", p.PID), Before: eventData(p)})
	})
}
