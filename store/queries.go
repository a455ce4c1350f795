package store

// stmt names one fixed statement. Fixed statements are rebound once per
// dialect and, on SQLite, prepared once per connection; statements whose
// shape depends on the input (IN lists) are built per call instead.
type stmt int

const (
	stInsertSigningKey stmt = iota
	stListSigningKeys

	stInsertAPIKey
	stGetAPIKeyByHash
	stTouchAPIKey

	stInsertLicenseType
	stGetLicenseType
	stListLicenseTypes
	stDeleteLicenseType
	stLicenseTypeInUse

	stInsertProduct
	stGetProduct
	stListProducts
	stUpdateProduct
	stDeleteProduct
	stDeleteProductLicenseTypes
	stInsertProductLicenseType
	stProductInUse

	stInsertSmartAccount
	stGetSmartAccount
	stListSmartAccounts
	stUpdateSmartAccount
	stLockSmartAccount

	stInsertVirtualAccount
	stGetVirtualAccount
	stGetVirtualAccountByID
	stListVirtualAccounts
	stAllVirtualAccounts
	stUpdateVirtualAccount
	stDeleteVirtualAccount
	stVirtualAccountContents

	stInsertDeposit
	stListDeposits

	stAddInUse

	stInsertToken
	stGetToken
	stGetTokenByHash
	stListTokens
	stRevokeToken
	stConsumeToken

	stInsertInstance
	stGetInstance
	stGetInstanceByUDI
	stListInstances
	stUpdateInstance
	stDeleteInstance
	stInstanceExists
	stDeleteUsage
	stInsertUsage

	stInsertPoolHistory

	stLockEventChain
	stAppendEvent
	stMoveEventHead

	stRegistrationScope

	numStmts
)

// Column lists, in the order the scan functions read them.
const (
	signingKeyCols   = `id, algorithm, public_key, private_key, created_at, retires_at`
	apiKeyCols       = `id, email, role, hash, created_at, last_used_at`
	licenseTypeCols  = `id, tag, name, description, term, enforcement, created_at`
	productCols      = `p.id, p.pid, p.name, p.description, p.created_at`
	smartAccountCols = `id, name, domain, limited_use, status, created_at`
	vaCols           = `id, smart_account_id, parent_id, name, description, depth, created_at`
	// A deposit's tag is read from its license type, which never changes.
	depositCols  = `d.id, d.va_id, d.order_number, d.license_type_id, lt.tag, d.quantity, d.starts_at, d.ends_at, d.created_at`
	depositFrom  = `deposits d JOIN license_types lt ON lt.id = d.license_type_id`
	tokenCols    = `id, va_id, description, hash, expires_at, max_uses, uses, allow_export_controlled, revoked_at, created_at`
	instanceCols = `i.id, i.smart_account_id, i.va_id, i.pid, i.sn, i.hostname, i.product_id, i.mode, i.allow_export_controlled,
		i.public_key, i.registered_at, i.last_contact_at, i.authorized_at, i.auth_expires_at, i.id_cert_expires_at,
		i.trust_serial, i.trusted_at, i.first_use_at, i.last_report_at, i.last_ack_at, i.usage_changed_at`
	usageCols = `u.license_type_id, u.tag, u.count, u.status`
)

// statements returns every fixed statement in d's placeholder style.
//
// Lookups "by id or natural key" are one statement: the OR is served by
// both unique indexes, and the ORDER BY puts an id match first, so an id
// wins over another row whose natural key happens to equal it.
func statements(d *dialect) *[numStmts]string {
	s := [numStmts]string{
		stInsertSigningKey: `INSERT INTO signing_keys (` + signingKeyCols + `) VALUES (?, ?, ?, ?, ?, ?)`,
		stListSigningKeys:  `SELECT ` + signingKeyCols + ` FROM signing_keys ORDER BY id`,

		stInsertAPIKey:    `INSERT INTO api_keys (` + apiKeyCols + `) VALUES (?, ?, ?, ?, ?, ?)`,
		stGetAPIKeyByHash: `SELECT ` + apiKeyCols + ` FROM api_keys WHERE hash = ?`,
		stTouchAPIKey:     `UPDATE api_keys SET last_used_at = ? WHERE id = ?`,

		stInsertLicenseType: `INSERT INTO license_types (` + licenseTypeCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		stGetLicenseType: `SELECT ` + licenseTypeCols + ` FROM license_types WHERE id = ? OR tag = ?
			ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END LIMIT 1`,
		stListLicenseTypes:  `SELECT ` + licenseTypeCols + ` FROM license_types WHERE id > ? ORDER BY id LIMIT ?`,
		stDeleteLicenseType: `DELETE FROM license_types WHERE id = ?`,
		// A pool counter at zero is not a use: it is what is left after the
		// last instance let go, and it cascades with the license type.
		stLicenseTypeInUse: `SELECT EXISTS (SELECT 1 FROM product_license_types WHERE license_type_id = ?)
			OR EXISTS (SELECT 1 FROM deposits WHERE license_type_id = ?)
			OR EXISTS (SELECT 1 FROM instance_usage WHERE license_type_id = ?)
			OR EXISTS (SELECT 1 FROM pools WHERE license_type_id = ? AND in_use <> 0)`,

		stInsertProduct: `INSERT INTO products (id, pid, name, description, created_at) VALUES (?, ?, ?, ?, ?)`,
		// By id, else by PID. The tags are joined with ',' (never part of
		// a tag), so that the product is one row, not one per license
		// type; NULL when it has none.
		stGetProduct: `SELECT ` + productCols + `, (SELECT string_agg(lt.tag, ',' ORDER BY lt.tag)
				FROM product_license_types plt JOIN license_types lt ON lt.id = plt.license_type_id
				WHERE plt.product_id = p.id)
			FROM products p
			WHERE p.id = COALESCE((SELECT id FROM products WHERE id = ?), (SELECT id FROM products WHERE pid = ?))`,
		stListProducts:              `SELECT ` + productCols + ` FROM products p WHERE p.id > ? ORDER BY p.id LIMIT ?`,
		stUpdateProduct:             `UPDATE products SET pid = ?, name = ?, description = ? WHERE id = ?`,
		stDeleteProduct:             `DELETE FROM products WHERE id = ?`,
		stDeleteProductLicenseTypes: `DELETE FROM product_license_types WHERE product_id = ?`,
		// Resolving the tag and linking it is one statement; no row
		// inserted means no such tag.
		stInsertProductLicenseType: `INSERT INTO product_license_types (product_id, license_type_id)
			SELECT CAST(? AS TEXT), id FROM license_types WHERE tag = ?`,
		stProductInUse: `SELECT EXISTS (SELECT 1 FROM instances WHERE product_id = ?)`,

		stInsertSmartAccount: `INSERT INTO smart_accounts (` + smartAccountCols + `) VALUES (?, ?, ?, ?, ?, ?)`,
		// An id wins over a domain that happens to equal it; each
		// subquery is one unique-index lookup, where "id = ? OR domain = ?"
		// would need a sort to prefer the id.
		stGetSmartAccount: `SELECT ` + smartAccountCols + ` FROM smart_accounts
			WHERE id = COALESCE((SELECT id FROM smart_accounts WHERE id = ?), (SELECT id FROM smart_accounts WHERE domain = ?))`,
		stListSmartAccounts:  `SELECT ` + smartAccountCols + ` FROM smart_accounts WHERE id > ? AND (? = '' OR status = ?) ORDER BY id LIMIT ?`,
		stUpdateSmartAccount: `UPDATE smart_accounts SET name = ?, domain = ?, limited_use = ?, status = ? WHERE id = ?`,
		stLockSmartAccount:   `SELECT id FROM smart_accounts WHERE id = ?` + d.forUpdate,

		stInsertVirtualAccount: `INSERT INTO virtual_accounts (` + vaCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		stGetVirtualAccount: `SELECT ` + vaCols + ` FROM virtual_accounts WHERE smart_account_id = ? AND (id = ? OR lower(name) = ?)
			ORDER BY CASE WHEN id = ? THEN 0 ELSE 1 END LIMIT 1`,
		stGetVirtualAccountByID: `SELECT ` + vaCols + ` FROM virtual_accounts WHERE id = ?`,
		stListVirtualAccounts:   `SELECT ` + vaCols + ` FROM virtual_accounts WHERE smart_account_id = ? AND id > ? ORDER BY id LIMIT ?`,
		stAllVirtualAccounts:    `SELECT ` + vaCols + ` FROM virtual_accounts WHERE smart_account_id = ? ORDER BY id`,
		stUpdateVirtualAccount:  `UPDATE virtual_accounts SET parent_id = ?, name = ?, description = ?, depth = ? WHERE id = ?`,
		stDeleteVirtualAccount:  `DELETE FROM virtual_accounts WHERE id = ?`,
		// The first column tells a missing VA from an empty one.
		stVirtualAccountContents: `SELECT
			(SELECT COUNT(*) FROM virtual_accounts WHERE id = ?),
			(SELECT COUNT(*) FROM virtual_accounts WHERE parent_id = ?),
			(SELECT COUNT(*) FROM deposits WHERE va_id = ?),
			(SELECT COUNT(*) FROM tokens WHERE va_id = ? AND revoked_at IS NULL AND expires_at > ?
				AND (max_uses IS NULL OR uses < max_uses)),
			(SELECT COUNT(*) FROM instances WHERE va_id = ?)`,

		stInsertDeposit: `INSERT INTO deposits (id, va_id, order_number, license_type_id, quantity, starts_at, ends_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		stListDeposits: `SELECT ` + depositCols + ` FROM ` + depositFrom + ` WHERE d.va_id = ? AND d.id > ? ORDER BY d.id LIMIT ?`,

		stAddInUse: `INSERT INTO pools (va_id, license_type_id, in_use) VALUES (?, ?, ?)
			ON CONFLICT (va_id, license_type_id) DO UPDATE SET in_use = pools.in_use + excluded.in_use
			RETURNING in_use, reserved`,

		stInsertToken:    `INSERT INTO tokens (` + tokenCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		stGetToken:       `SELECT ` + tokenCols + ` FROM tokens WHERE id = ?`,
		stGetTokenByHash: `SELECT ` + tokenCols + ` FROM tokens WHERE hash = ?`,
		stListTokens:     `SELECT ` + tokenCols + ` FROM tokens WHERE va_id = ? AND id > ? ORDER BY id LIMIT ?`,
		// The first revocation is the one that counts.
		stRevokeToken: `UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`,
		// The claim and its conditions are one statement, so concurrent
		// registrations cannot both take the last use.
		stConsumeToken: `UPDATE tokens SET uses = uses + 1
			WHERE hash = ? AND revoked_at IS NULL AND expires_at > ? AND (max_uses IS NULL OR uses < max_uses)
			RETURNING ` + tokenCols,

		stInsertInstance: `INSERT INTO instances (id, smart_account_id, va_id, pid, sn, hostname, product_id, mode,
			allow_export_controlled, public_key, registered_at, last_contact_at, authorized_at, auth_expires_at, id_cert_expires_at,
			trust_serial, trusted_at, first_use_at, last_report_at, last_ack_at, usage_changed_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		// An instance and its usage lines in one round trip: one row per
		// line, or one row with NULL usage columns.
		stGetInstance: `SELECT ` + instanceCols + `, ` + usageCols + ` FROM instances i
			LEFT JOIN instance_usage u ON u.instance_id = i.id WHERE i.id = ? ORDER BY u.tag`,
		stGetInstanceByUDI: `SELECT ` + instanceCols + `, ` + usageCols + ` FROM instances i
			LEFT JOIN instance_usage u ON u.instance_id = i.id WHERE i.pid = ? AND i.sn = ? ORDER BY u.tag`,
		stListInstances: `SELECT ` + instanceCols + ` FROM instances i WHERE i.va_id = ? AND i.id > ? ORDER BY i.id LIMIT ?`,
		stUpdateInstance: `UPDATE instances SET smart_account_id = ?, va_id = ?, pid = ?, sn = ?, hostname = ?, product_id = ?,
			mode = ?, allow_export_controlled = ?, public_key = ?, registered_at = ?, last_contact_at = ?,
			authorized_at = ?, auth_expires_at = ?, id_cert_expires_at = ?, trust_serial = ?, trusted_at = ?,
			first_use_at = ?, last_report_at = ?, last_ack_at = ?, usage_changed_at = ? WHERE id = ?`,
		stDeleteInstance: `DELETE FROM instances WHERE id = ?`,
		stInstanceExists: `SELECT EXISTS (SELECT 1 FROM instances WHERE id = ?)`,
		stDeleteUsage:    `DELETE FROM instance_usage WHERE instance_id = ?`,
		stInsertUsage: `INSERT INTO instance_usage (instance_id, license_type_id, tag, count, status)
			VALUES (?, ?, ?, ?, ?)`,

		// Every usage change writes a history entry: fixed and prepared.
		stInsertPoolHistory: `INSERT INTO pool_history (va_id, license_type_id, at, in_use, reserved) VALUES (?, ?, ?, ?, ?)`,

		// The event log is appended to by nearly every write, registrations
		// included, so its statements are fixed and prepared. The upsert
		// takes the head row's lock on PostgreSQL even when the row exists.
		stLockEventChain: `INSERT INTO event_chains (chain, seq, hash) VALUES (?, 0, '')
			ON CONFLICT (chain) DO UPDATE SET seq = event_chains.seq
			RETURNING seq, hash`,
		stAppendEvent:   `INSERT INTO events (` + eventCols + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		stMoveEventHead: `UPDATE event_chains SET seq = ?, hash = ? WHERE chain = ? AND seq = ?`,

		// Everything a registration reads, in one round trip (see
		// registrations.go); the product as stGetProduct finds it.
		stRegistrationScope: `SELECT t.id, t.va_id, t.description, t.hash, t.expires_at, t.max_uses, t.uses,
				t.allow_export_controlled, t.revoked_at, t.created_at,
				va.id, va.smart_account_id, va.parent_id, va.name, va.description, va.depth, va.created_at,
				sa.id, sa.name, sa.domain, sa.limited_use, sa.status, sa.created_at,
				COALESCE((SELECT id FROM products WHERE id = ?), (SELECT id FROM products WHERE pid = ?))
			FROM tokens t
			JOIN virtual_accounts va ON va.id = t.va_id
			JOIN smart_accounts sa ON sa.id = va.smart_account_id
			WHERE t.hash = ?`,
	}
	for i := range s {
		s[i] = d.rebind(s[i])
	}
	return &s
}
