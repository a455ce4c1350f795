package sign

// AddL is addL, for the package's external tests.
var AddL = addL
