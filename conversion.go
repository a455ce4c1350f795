package smartlic

import (
	"context"
	"regexp"
	"time"
)

// Classic (PAK-based) licenses and their conversion to smart licenses.
//
// Before Smart Licensing, a customer bought a Product Activation Key (PAK):
// an order of classic SKUs, each line a quantity, fulfilled by node-locking
// units to one device at a time. The vendor keeps a mapping from each
// classic SKU to the smart license type that replaces it (1 classic unit =
// Ratio smart licenses). Converting a PAK, or part of it, deposits the
// smart licenses into a Virtual Account; each classic unit converts at most
// once, which the store guarantees with one conditional UPDATE per line.

// Signed document types of device-led conversion.
const (
	// TypeConvertRequest is an instance reporting the classic licenses it
	// has installed, asking for their smart equivalent.
	TypeConvertRequest = "smartlic.convert-request/v1"
	// TypeConversion is the manager's answer, one line per reported license.
	TypeConversion = "smartlic.conversion/v1"
)

// Limits of the conversion inputs.
const (
	MaxPAKLines            = 200  // lines of one PAK, and of one conversion
	MaxFulfillmentsPerLine = 1000 // devices one PAK line is fulfilled on
	MaxClassicLines        = 200  // classic licenses one device reports at once
	MaxClassicQuantity     = 1_000_000
	MaxConversionRatio     = 10_000
	MaxSubscriptionDays    = 3650
)

// ClassicSKU is a classic license the vendor sold with PAKs, and the smart
// license type it converts to. A SKU without LicenseTag has no smart
// equivalent: its PAKs can be deposited (for visibility) but not converted.
type ClassicSKU struct {
	ID          string `json:"id"`
	SKU         string `json:"sku"`
	Description string `json:"description"`
	// LicenseTypeID and LicenseTag name the smart license type; empty when
	// the SKU is not convertible.
	LicenseTypeID string `json:"license_type_id,omitempty"`
	LicenseTag    string `json:"license_tag,omitempty"`
	// Ratio is how many smart licenses one classic unit becomes (≥ 1).
	Ratio int64 `json:"ratio"`
	// TermDays is how long the converted licenses of a subscription
	// license type run, counted from the conversion; 0 for perpetual.
	TermDays  int       `json:"term_days,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Convertible reports whether the SKU has a smart equivalent.
func (s ClassicSKU) Convertible() bool { return s.LicenseTypeID != "" }

// ClassicSKUInput creates a classic SKU. License (tag or id) is empty for a
// SKU with no smart equivalent; Ratio defaults to 1.
type ClassicSKUInput struct {
	SKU         string `json:"sku"`
	Description string `json:"description"`
	License     string `json:"license,omitempty"`
	Ratio       int64  `json:"ratio,omitempty"`
	TermDays    int    `json:"term_days,omitempty"`
}

var skuRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._/+=-]{0,63}$`)

// ValidateSKU checks a classic SKU such as "L-ASR1001-10G=".
func ValidateSKU(field, sku string) error {
	if !skuRE.MatchString(sku) {
		return Invalid(field, "must be 1-64 characters of A-Z, a-z, 0-9, '.', '_', '/', '+', '=' or '-' (got %q)", sku)
	}
	return nil
}

// Validate checks a classic SKU's own fields; the license type's term is
// checked by the manager.
func (s ClassicSKU) Validate() error {
	if err := ValidateSKU("sku", s.SKU); err != nil {
		return err
	}
	if len(s.Description) > 2000 {
		return Invalid("description", "must be at most 2000 characters")
	}
	if s.Ratio < 1 || s.Ratio > MaxConversionRatio {
		return Invalid("ratio", "must be between 1 and %d (got %d)", MaxConversionRatio, s.Ratio)
	}
	if s.TermDays < 0 || s.TermDays > MaxSubscriptionDays {
		return Invalid("term_days", "must be between 1 and %d (got %d)", MaxSubscriptionDays, s.TermDays)
	}
	return nil
}

// PAK is a Product Activation Key deposited into a Smart Account: one
// classic order, several SKU lines. Its number is unique across the vendor.
type PAK struct {
	ID             string    `json:"id"`
	SmartAccountID string    `json:"smart_account_id"`
	Number         string    `json:"number"`
	OrderNumber    string    `json:"order_number"`
	Lines          []PAKLine `json:"lines"`
	CreatedAt      time.Time `json:"created_at"`
}

// PAKLine is one SKU of a PAK. Converted never exceeds Quantity.
type PAKLine struct {
	ID        string `json:"id"`
	PAKID     string `json:"pak_id"`
	Line      int    `json:"line"` // 1, 2, … within the PAK
	SKU       string `json:"sku"`
	Quantity  int64  `json:"quantity"`
	Converted int64  `json:"converted"`
	// Fulfillments are the devices units of this line are node-locked to.
	Fulfillments []PAKFulfillment `json:"fulfillments,omitempty"`
}

// Remaining is how many units of the line are not converted yet.
func (l PAKLine) Remaining() int64 { return l.Quantity - l.Converted }

// PAKFulfillment is classic units of one PAK line installed on one device.
// Converted counts the units the device itself converted (device-led);
// the line's Converted counts every conversion.
type PAKFulfillment struct {
	ID        string `json:"id"`
	LineID    string `json:"line_id"`
	UDI       UDI    `json:"udi"`
	Count     int64  `json:"count"`
	Converted int64  `json:"converted"`
}

// PAKInput deposits a PAK.
type PAKInput struct {
	Number      string         `json:"number"`
	OrderNumber string         `json:"order_number"`
	Lines       []PAKLineInput `json:"lines"`
}

// PAKLineInput is one line of a PAK deposit.
type PAKLineInput struct {
	SKU       string             `json:"sku"`
	Quantity  int64              `json:"quantity"`
	Fulfilled []FulfillmentInput `json:"fulfilled,omitempty"`
}

// FulfillmentInput says Count units of a line are installed on the device UDI.
type FulfillmentInput struct {
	UDI   UDI   `json:"udi"`
	Count int64 `json:"count"`
}

var pakRE = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// ValidatePAKNumber checks a PAK number such as "3300J7A1B2C".
func ValidatePAKNumber(field, number string) error {
	if !pakRE.MatchString(number) {
		return Invalid(field, "must be 1-64 characters of A-Z, a-z, 0-9, '.', '_' or '-' (got %q)", number)
	}
	return nil
}

// Validate checks a PAK deposit's own fields: lines present and bounded,
// no SKU twice, fulfillments within each line's quantity and no device
// twice on one line. SKUs are checked against the catalogue by the manager.
func (in PAKInput) Validate() error {
	if err := ValidatePAKNumber("number", in.Number); err != nil {
		return err
	}
	if err := ValidateName("order_number", in.OrderNumber, 64); err != nil {
		return err
	}
	if len(in.Lines) == 0 {
		return Invalid("lines", "a PAK has at least one line")
	}
	if len(in.Lines) > MaxPAKLines {
		return Invalid("lines", "at most %d lines (got %d)", MaxPAKLines, len(in.Lines))
	}
	skus := map[string]bool{}
	for i, l := range in.Lines {
		if err := ValidateSKU("lines.sku", l.SKU); err != nil {
			return err
		}
		if skus[l.SKU] {
			return Invalid("lines.sku", "SKU %q is listed twice; add up its quantities in one line", l.SKU)
		}
		skus[l.SKU] = true
		if l.Quantity < 1 || l.Quantity > MaxClassicQuantity {
			return Invalid("lines.quantity", "line %d: must be between 1 and %d (got %d)", i+1, MaxClassicQuantity, l.Quantity)
		}
		if len(l.Fulfilled) > MaxFulfillmentsPerLine {
			return Invalid("lines.fulfilled", "line %d: at most %d devices (got %d)", i+1, MaxFulfillmentsPerLine, len(l.Fulfilled))
		}
		var total int64
		udis := map[UDI]bool{}
		for _, f := range l.Fulfilled {
			if err := f.UDI.Validate("lines.fulfilled.udi"); err != nil {
				return err
			}
			if udis[f.UDI] {
				return Invalid("lines.fulfilled.udi", "line %d: device %s is listed twice", i+1, f.UDI)
			}
			udis[f.UDI] = true
			if f.Count < 1 {
				return Invalid("lines.fulfilled.count", "line %d: must be at least 1 (got %d for %s)", i+1, f.Count, f.UDI)
			}
			total += f.Count
		}
		if total > l.Quantity {
			return Invalid("lines.fulfilled", "line %d: %d units fulfilled on devices, but the line has only %d", i+1, total, l.Quantity)
		}
	}
	return nil
}

// ConvertInput converts a PAK, or part of it, into smart licenses in the
// Virtual Account VA. Without Lines every unconverted unit of every line
// converts. EndsAt overrides the end the SKU's TermDays would give a
// subscription; it is refused for perpetual licenses.
type ConvertInput struct {
	VA     string             `json:"va"`
	Lines  []ConvertLineInput `json:"lines,omitempty"`
	EndsAt *time.Time         `json:"ends_at,omitempty"`
}

// ConvertLineInput converts Quantity units of one line, chosen by its
// number or its SKU. Quantity 0 converts whatever remains of the line.
type ConvertLineInput struct {
	Line     int    `json:"line,omitempty"`
	SKU      string `json:"sku,omitempty"`
	Quantity int64  `json:"quantity,omitempty"`
}

// Conversion records classic units of one PAK line that became smart
// licenses: the deposit it made and, for device-led conversions, the
// instance that asked.
type Conversion struct {
	ID               string    `json:"id"`
	SmartAccountID   string    `json:"smart_account_id"`
	PAKID            string    `json:"pak_id"`
	PAKNumber        string    `json:"pak_number"`
	LineID           string    `json:"line_id"`
	Line             int       `json:"line"`
	SKU              string    `json:"sku"`
	Units            int64     `json:"units"` // classic units converted
	VirtualAccountID string    `json:"virtual_account_id"`
	DepositID        string    `json:"deposit_id"`
	LicenseTypeID    string    `json:"license_type_id"`
	LicenseTag       string    `json:"license_tag"`
	Quantity         int64     `json:"quantity"` // smart licenses deposited: Units × ratio
	InstanceID       string    `json:"instance_id,omitempty"`
	UDI              *UDI      `json:"udi,omitempty"`
	CreatedAt        time.Time `json:"created_at"`
}

// ConversionResult is what one conversion of a PAK did.
type ConversionResult struct {
	PAK         PAK          `json:"pak"`
	Conversions []Conversion `json:"conversions"`
	Deposits    []Deposit    `json:"deposits"`
}

// ClassicLicense is one classic license an instance reports installed.
type ClassicLicense struct {
	SKU   string `json:"sku"`
	PAK   string `json:"pak,omitempty"` // PAK number, when the device knows it
	Count int64  `json:"count"`
}

// ConvertRequest is the payload of a convert request, signed with the
// instance's key (kid = instance id) like every device request.
type ConvertRequest struct {
	InstanceID string           `json:"instance_id"`
	UDI        UDI              `json:"udi"`
	SentAt     time.Time        `json:"sent_at"`
	Nonce      string           `json:"nonce,omitempty"` // see DeviceRequest
	Classic    []ClassicLicense `json:"classic"`
}

// ConversionStatus is the outcome of one reported classic license.
type ConversionStatus string

const (
	// Converted: units fulfilled on this device converted now.
	Converted ConversionStatus = "converted"
	// AlreadyConverted: the matching units were converted before (by this
	// device or in the portal); nothing changed.
	AlreadyConverted ConversionStatus = "already_converted"
	// NoMatchingPAK: no PAK of the instance's Smart Account has units of
	// this SKU fulfilled on this device.
	NoMatchingPAK ConversionStatus = "no_matching_pak"
	// NotMappable: the SKU is unknown or has no smart equivalent.
	NotMappable ConversionStatus = "not_mappable"
)

// ConversionLine answers one reported classic license.
type ConversionLine struct {
	SKU        string           `json:"sku"`
	PAK        string           `json:"pak,omitempty"`
	Reported   int64            `json:"reported"`
	Converted  int64            `json:"converted"` // classic units converted by this request
	LicenseTag string           `json:"license_tag,omitempty"`
	Quantity   int64            `json:"quantity"` // smart licenses deposited by this request
	Status     ConversionStatus `json:"status"`
}

// ConversionAnswer is the payload of the manager's signed answer.
type ConversionAnswer struct {
	InstanceID     string           `json:"instance_id"`
	UDI            UDI              `json:"udi"`
	VirtualAccount string           `json:"virtual_account"` // name of the VA that received the licenses
	IssuedAt       time.Time        `json:"issued_at"`
	Lines          []ConversionLine `json:"lines"`
}

// ConversionService manages classic SKUs, PAKs and their conversion.
type ConversionService interface {
	// Vendor catalogue of classic SKUs (operator only).
	CreateClassicSKU(ctx context.Context, in ClassicSKUInput) (ClassicSKU, error)
	GetClassicSKU(ctx context.Context, idOrSKU string) (ClassicSKU, error)
	ListClassicSKUs(ctx context.Context, p Page) ([]ClassicSKU, string, error)
	DeleteClassicSKU(ctx context.Context, idOrSKU string) error

	// DepositPAK records a PAK in a Smart Account (operator only).
	DepositPAK(ctx context.Context, sa string, in PAKInput) (PAK, error)
	// GetPAK finds a PAK of the Smart Account by id or number.
	GetPAK(ctx context.Context, sa, pak string) (PAK, error)
	ListPAKs(ctx context.Context, sa string, p Page) ([]PAK, string, error)
	// ConvertPAK converts all or part of a PAK into smart licenses in a VA.
	// Units already converted are refused with EAlreadyConverted and
	// nothing changes.
	ConvertPAK(ctx context.Context, sa, pak string, in ConvertInput) (ConversionResult, error)
	// ListConversions lists what was converted of a PAK.
	ListConversions(ctx context.Context, sa, pak string) ([]Conversion, error)

	// ConvertClassic is the device-led conversion: a signed
	// TypeConvertRequest in, a signed TypeConversion out.
	ConvertClassic(ctx context.Context, req Envelope) (Envelope, error)
}

// ConversionTx is the storage of classic SKUs, PAKs and conversions.
type ConversionTx interface {
	InsertClassicSKU(ctx context.Context, s ClassicSKU) error
	// GetClassicSKU accepts an id or the SKU.
	GetClassicSKU(ctx context.Context, idOrSKU string) (ClassicSKU, error)
	ListClassicSKUs(ctx context.Context, p Page) ([]ClassicSKU, error)
	DeleteClassicSKU(ctx context.Context, id string) error

	// InsertPAK stores a PAK with its lines and their fulfillments.
	InsertPAK(ctx context.Context, p PAK) error
	// GetPAK finds a PAK of the Smart Account by id or number, with its
	// lines and fulfillments.
	GetPAK(ctx context.Context, saID, idOrNumber string) (PAK, error)
	// ListPAKs lists a Smart Account's PAKs with their lines.
	ListPAKs(ctx context.Context, saID string, p Page) ([]PAK, error)
	// ClaimPAKUnits adds n to the converted count of a line if the result
	// stays within its quantity, in one statement; ok is false otherwise.
	ClaimPAKUnits(ctx context.Context, lineID string, n int64) (ok bool, err error)
	// ClaimFulfilledUnits is ClaimPAKUnits for a fulfillment's own count.
	ClaimFulfilledUnits(ctx context.Context, fulfillmentID string, n int64) (ok bool, err error)
	// FulfillmentsOn returns the fulfillments of SKU on the device udi among
	// the Smart Account's PAKs (optionally only PAK number pak), oldest PAK
	// first, each with its line and PAK.
	FulfillmentsOn(ctx context.Context, saID string, udi UDI, sku, pak string) ([]DeviceFulfillment, error)
	InsertConversion(ctx context.Context, c Conversion) error
	// ListConversions lists the conversions of a PAK in creation order.
	ListConversions(ctx context.Context, pakID string) ([]Conversion, error)
}

// DeviceFulfillment is a fulfillment with the line and PAK it belongs to.
type DeviceFulfillment struct {
	Fulfillment PAKFulfillment
	Line        PAKLine // without fulfillments
	PAKID       string
	PAKNumber   string
	OrderNumber string
}
