package smartlic

// ECodeInvalid refuses a paste-able code (request, authorization, return,
// confirmation, SLAC) that is not well formed: a character outside the
// alphabet, a missing or extra character, a failed check, or a code of
// another kind. It is found before any lookup, so it says nothing about
// whether such a reservation exists.
const ECodeInvalid = "code_invalid"
