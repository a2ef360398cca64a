// QuiverModel: tokenizer, BERT-family encoder, adapters, fusion, heads.
