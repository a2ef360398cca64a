// MARK: - PostProcessor

/// How the special tokens are put around the encoded sequences (tokenizer.json's `post_processor`).
enum PostProcessor: Sendable, Equatable {
    /// No special tokens: `A`, or `A B` with type ids 0 then 1.
    case none
    /// RoBERTa's: `<s> A </s>` and `<s> A </s></s> B </s>`, every type id 0.
    case roberta(classifier: Int32, separator: Int32)
    /// BERT's: `[CLS] A [SEP]` and `[CLS] A [SEP] B [SEP]` with type ids 0 then 1.
    case bert(classifier: Int32, separator: Int32)
    /// tokenizers' `TemplateProcessing`.
    case template(single: [TemplatePiece], pair: [TemplatePiece])

    /// One item of a template: special token ids, or sequence A or B, with the type id they get.
    enum TemplatePiece: Sendable, Equatable {
        case special([Int32], typeID: Int32)
        case sequenceA(typeID: Int32)
        case sequenceB(typeID: Int32)
    }

    /// The number of special tokens added to one sequence or a pair (what truncation leaves room for).
    func addedCount(isPair: Bool) -> Int {
        switch self {
        case .none: return 0
        case .roberta: return isPair ? 4 : 2
        case .bert: return isPair ? 3 : 2
        case .template(let single, let pair):
            return (isPair ? pair : single).reduce(0) { count, piece in
                if case .special(let ids, _) = piece { return count + ids.count }
                return count
            }
        }
    }

    /// The encoding of `first` (and `second`) with the special tokens in place.
    func process(_ first: [Int32], _ second: [Int32]?) -> Encoding {
        var ids: [Int32] = []
        var typeIDs: [Int32] = []
        func add(_ tokens: [Int32], type: Int32) {
            ids.append(contentsOf: tokens)
            typeIDs.append(contentsOf: repeatElement(type, count: tokens.count))
        }
        switch self {
        case .none:
            add(first, type: 0)
            if let second { add(second, type: 1) }
        case .roberta(let classifier, let separator):
            add([classifier], type: 0)
            add(first, type: 0)
            add([separator], type: 0)
            if let second {
                add([separator], type: 0)
                add(second, type: 0)
                add([separator], type: 0)
            }
        case .bert(let classifier, let separator):
            add([classifier], type: 0)
            add(first, type: 0)
            add([separator], type: 0)
            if let second {
                add(second, type: 1)
                add([separator], type: 1)
            }
        case .template(let single, let pair):
            for piece in second == nil ? single : pair {
                switch piece {
                case .special(let tokens, let type): add(tokens, type: type)
                case .sequenceA(let type): add(first, type: type)
                case .sequenceB(let type): add(second ?? [], type: type)
                }
            }
        }
        return Encoding(ids: ids, typeIds: typeIDs, attentionMask: [Int32](repeating: 1, count: ids.count))
    }
}
