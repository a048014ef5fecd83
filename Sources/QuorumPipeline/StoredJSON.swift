import Foundation
import QuorumCore

/// Reading back the JSON Quorum itself stored (settings, metrics, event
/// details). It was written valid, so a malformed value means the database
/// was changed outside Quorum: that is an error to report, never a silent
/// default.
enum StoredJSON {
    /// The JSON object in `text`, or a failed check naming `what` it was.
    static func object(_ text: String, _ what: String) throws(QuorumError) -> [String: Any] {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else {
            throw QuorumError(.failedCheck, "the stored \(what) is not a valid JSON object",
                              hint: "the project database was modified outside Quorum; restore it from a backup")
        }
        return object
    }
}
