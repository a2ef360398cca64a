
/// Text from elsewhere (a remote's error messages, tags, annotations) made safe to print on a
/// terminal: a registry must not be able to move the cursor, clear the screen, set the window title,
/// plant hyperlinks or hide text in what Quiver prints.
public enum TerminalText {
    /// `text` without control characters — C0 but newline and tab, DEL, C1 — and without the escape
    /// sequences they start (CSI `ESC [ … final`, OSC/DCS/PM/APC strings up to BEL or ST, and
    /// two-character escapes).
    public static func sanitized(_ text: String) -> String {
        // Every control's UTF-8 holds a byte below 20, 7F (DEL) or C2 (the lead byte of C1 controls): a quick first look.
        var utf8 = text
        let mayHoldControls = utf8.withUTF8 { $0.contains { $0 < 0x20 || $0 == 0x7F || $0 == 0xC2 } }
        guard mayHoldControls, text.unicodeScalars.contains(where: isControl) else { return text }
        var output = String.UnicodeScalarView()
        var scalars = text.unicodeScalars.makeIterator()
        while let scalar = scalars.next() {
            switch scalar.value {
            case 0x1B:
                guard let next = scalars.next() else { break }
                switch next {
                case "[": skipControlSequence(&scalars)
                case "]", "P", "X", "^", "_": skipControlString(&scalars)
                default:
                    // ESC, intermediates (0x20–0x2F), then one final character.
                    var current: Unicode.Scalar? = next
                    while let value = current?.value, (0x20...0x2F).contains(value) { current = scalars.next() }
                }
            case 0x9B: skipControlSequence(&scalars)
            case 0x90, 0x98, 0x9D, 0x9E, 0x9F: skipControlString(&scalars)
            case 0x0A, 0x09: output.append(scalar)
            default:
                if !isControl(scalar) { output.append(scalar) }
            }
        }
        return String(output)
    }

    /// JSON text with DEL and C1 controls written as `\u00XX` escapes (JSON encoders escape C0 only):
    /// the same JSON value, safe on a terminal. Those characters can only stand inside strings.
    public static func escapingControls(inJSON json: String) -> String {
        guard json.unicodeScalars.contains(where: { (0x7F...0x9F).contains($0.value) }) else { return json }
        var output = ""
        for scalar in json.unicodeScalars {
            if (0x7F...0x9F).contains(scalar.value) {
                output += "\\u00" + String(scalar.value, radix: 16)
            } else {
                output.unicodeScalars.append(scalar)
            }
        }
        return output
    }

    private static func isControl(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value)
    }

    /// Parameters and intermediates up to the final character (0x40–0x7E) of `CSI … final`.
    private static func skipControlSequence(_ scalars: inout String.UnicodeScalarView.Iterator) {
        while let scalar = scalars.next(), !(0x40...0x7E).contains(scalar.value) {}
    }

    /// A control string up to BEL, ST (`ESC \` or 0x9C).
    private static func skipControlString(_ scalars: inout String.UnicodeScalarView.Iterator) {
        while let scalar = scalars.next() {
            if scalar.value == 0x07 || scalar.value == 0x9C { return }
            if scalar.value == 0x1B {
                _ = scalars.next()
                return
            }
        }
    }
}
