
/// Maps a dataset's gold labels onto a head's labels.
///
/// By name when every label of the data is one of the head's; otherwise, when the data writes its
/// labels as integers (`Dataset.integerLabels`) and each is below the head's label count, as
/// indices into the head's labels. Anything else is an error naming the first row whose label the
/// head does not know.
public enum GoldLabels {
    public static func indices(of dataset: Dataset, in headLabels: [String], task: String) throws -> [Int] {
        var byName: [String: Int] = [:]
        for (index, label) in headLabels.enumerated() where byName[label] == nil { byName[label] = index }
        if dataset.labels.allSatisfy({ byName[$0] != nil }) {
            return dataset.examples.map { byName[$0.label]! }
        }
        if dataset.integerLabels, dataset.labels.allSatisfy({ Int($0)! < headLabels.count }) {
            return dataset.examples.map { Int($0.label)! }
        }
        let known = describe(headLabels)
        if dataset.integerLabels {
            // Read as indices, the labels fail at the first one out of range, not at the first that is no name.
            for example in dataset.examples where Int(example.label)! >= headLabels.count {
                throw QuiverError(.invalidInput, "\(dataset.source):\(example.line): unknown label \(example.label): \(task) has the labels \(known), and integer labels are read as indices only below \(headLabels.count)")
            }
        }
        for example in dataset.examples where byName[example.label] == nil {
            throw QuiverError(.invalidInput, "\(dataset.source):\(example.line): unknown label \"\(example.label)\": \(task) has the labels \(known)")
        }
        fatalError("GoldLabels: some label is unknown but no example has it")
    }

    /// `negative, positive`, cut after 20 labels.
    static func describe(_ labels: [String]) -> String {
        let shown = labels.prefix(20).map { "\"\($0)\"" }.joined(separator: ", ")
        return labels.count > 20 ? "\(shown), … (\(labels.count) in all)" : shown
    }
}
