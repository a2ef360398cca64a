import Foundation

/// Text made safe for a query value in a link the server writes (`Link` headers, the web page's pages).
enum QueryText {
    /// Everything but ASCII letters, digits and `-._~` (RFC 3986's unreserved characters) percent-encoded.
    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
}
