package wire

import "github.com/smartlic/smartlic"

// Conversions between the root input types and the request bodies. The
// client uses the From* functions, the server the methods; keeping both
// directions side by side makes a forgotten field visible in one place.

// LicenseType is the license type this request asks for.
func (r LicenseTypeRequest) LicenseType() smartlic.LicenseType {
	return smartlic.LicenseType{Tag: r.Tag, Name: r.Name, Description: r.Description, Term: r.Term, Enforcement: r.Enforcement}
}

// FromLicenseType is the request that creates lt.
func FromLicenseType(lt smartlic.LicenseType) LicenseTypeRequest {
	return LicenseTypeRequest{Tag: lt.Tag, Name: lt.Name, Description: lt.Description, Term: lt.Term, Enforcement: lt.Enforcement}
}

// Product is the product this request asks for.
func (r ProductRequest) Product() smartlic.Product {
	return smartlic.Product{PID: r.PID, Name: r.Name, Description: r.Description, LicenseTypes: r.LicenseTypes}
}

// FromProduct is the request that creates p.
func FromProduct(p smartlic.Product) ProductRequest {
	return ProductRequest{PID: p.PID, Name: p.Name, Description: p.Description, LicenseTypes: p.LicenseTypes}
}

// Update is the root form of the update.
func (u ProductUpdate) Update() smartlic.ProductUpdate {
	return smartlic.ProductUpdate{Name: u.Name, Description: u.Description, LicenseTypes: u.LicenseTypes}
}

// FromProductUpdate is the request body of u.
func FromProductUpdate(u smartlic.ProductUpdate) ProductUpdate {
	return ProductUpdate{Name: u.Name, Description: u.Description, LicenseTypes: u.LicenseTypes}
}

// SmartAccount is the Smart Account this request asks for: active when
// Approve is set, otherwise awaiting approval.
func (r SmartAccountRequest) SmartAccount() smartlic.SmartAccount {
	sa := smartlic.SmartAccount{Name: r.Name, Domain: r.Domain, LimitedUse: r.LimitedUse}
	if r.Approve {
		sa.Status = smartlic.SAActive
	}
	return sa
}

// FromSmartAccount is the request that creates sa; an active status asks
// for approval at creation.
func FromSmartAccount(sa smartlic.SmartAccount) SmartAccountRequest {
	return SmartAccountRequest{Name: sa.Name, Domain: sa.Domain, LimitedUse: sa.LimitedUse, Approve: sa.Status == smartlic.SAActive}
}

// Update is the root form of the update.
func (u SmartAccountUpdate) Update() smartlic.SmartAccountUpdate {
	return smartlic.SmartAccountUpdate{Name: u.Name, LimitedUse: u.LimitedUse}
}

// FromSmartAccountUpdate is the request body of u.
func FromSmartAccountUpdate(u smartlic.SmartAccountUpdate) SmartAccountUpdate {
	return SmartAccountUpdate{Name: u.Name, LimitedUse: u.LimitedUse}
}

// Input is the root form of the request.
func (r VirtualAccountRequest) Input() smartlic.VirtualAccountInput {
	return smartlic.VirtualAccountInput{Name: r.Name, Description: r.Description, Parent: r.Parent}
}

// FromVirtualAccountInput is the request body of in.
func FromVirtualAccountInput(in smartlic.VirtualAccountInput) VirtualAccountRequest {
	return VirtualAccountRequest{Name: in.Name, Description: in.Description, Parent: in.Parent}
}

// Update is the root form of the update.
func (u VirtualAccountUpdate) Update() smartlic.VirtualAccountUpdate {
	return smartlic.VirtualAccountUpdate{Name: u.Name, Description: u.Description, Parent: u.Parent}
}

// FromVirtualAccountUpdate is the request body of u.
func FromVirtualAccountUpdate(u smartlic.VirtualAccountUpdate) VirtualAccountUpdate {
	return VirtualAccountUpdate{Name: u.Name, Description: u.Description, Parent: u.Parent}
}

// Input is the root form of the request.
func (r DepositRequest) Input() smartlic.DepositInput {
	return smartlic.DepositInput{OrderNumber: r.OrderNumber, License: r.License, Quantity: r.Quantity, StartsAt: r.StartsAt, EndsAt: r.EndsAt}
}

// FromDepositInput is the request body of in.
func FromDepositInput(in smartlic.DepositInput) DepositRequest {
	return DepositRequest{OrderNumber: in.OrderNumber, License: in.License, Quantity: in.Quantity, StartsAt: in.StartsAt, EndsAt: in.EndsAt}
}

// Input is the root form of the request.
func (r TokenRequest) Input() smartlic.TokenInput {
	return smartlic.TokenInput{Description: r.Description, ExpiresInDays: r.ExpiresInDays, ExpiresInMinutes: r.ExpiresInMinutes, MaxUses: r.MaxUses, AllowExportControlled: r.AllowExportControlled}
}

// FromTokenInput is the request body of in.
func FromTokenInput(in smartlic.TokenInput) TokenRequest {
	return TokenRequest{Description: in.Description, ExpiresInDays: in.ExpiresInDays, ExpiresInMinutes: in.ExpiresInMinutes, MaxUses: in.MaxUses, AllowExportControlled: in.AllowExportControlled}
}
