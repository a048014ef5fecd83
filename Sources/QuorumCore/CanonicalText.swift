import Foundation

/// One rule for comparing the names people give things: ids and label names
/// are stored, compared and exported in Unicode Normalization Form C.
///
/// Swift compares strings by canonical equivalence (`"é" == "e\u{301}"`), but
/// SQLite, the hash chain and exported files compare bytes. Normalising every
/// id and label to NFC where it enters (item files, answer files, command-line
/// arguments, `init --labels`) makes the two agree: canonically equivalent
/// spellings are one item and one label everywhere.
extension String {
    /// The string in NFC. ASCII strings (already NFC) are returned as they are.
    ///
    /// - Complexity: O(n); the ASCII check is one pass over the UTF-8 bytes.
    public var nfc: String {
        var copy = self
        let ascii = copy.withUTF8 { bytes in bytes.allSatisfy { $0 < 0x80 } }
        return ascii ? self : precomposedStringWithCanonicalMapping
    }
}
