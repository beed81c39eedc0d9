//! One table in memory: its items by partition key, then by sort key, each an
//! attribute map kept as the caller gave it (`{"pk": {"S": "..."}, ...}`).
//!
//! Keys are strings (`{"S": ...}`), ordered by their UTF-8 bytes as DynamoDB
//! orders them; a table without a sort key keeps its items under the sort key "".

use std::collections::BTreeMap;
use std::ops::Bound;

use serde_json::{Map, Value, json};

/// An item, or a key: attribute names to attribute values.
pub(crate) type Item = Map<String, Value>;

/// The names of a table's key attributes.
#[derive(Clone, Debug)]
pub(crate) struct KeySchema {
    /// The partition key (`HASH`).
    pub(crate) hash: String,
    /// The sort key (`RANGE`), if the table has one.
    pub(crate) range: Option<String>,
}

/// A table's items.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) keys: KeySchema,
    /// When it was created, in seconds since the epoch.
    pub(crate) created: f64,
    partitions: BTreeMap<String, BTreeMap<String, Item>>,
    len: usize,
}

/// One page of a query: the items in sort key order, and the key of the last
/// one when the limit stopped the query (DynamoDB's `LastEvaluatedKey`).
pub(crate) struct Page<'a> {
    pub(crate) items: Vec<&'a Item>,
    pub(crate) last_evaluated_key: Option<Item>,
}

impl Table {
    pub(crate) fn new(keys: KeySchema, created: f64) -> Self {
        Self { keys, created, partitions: BTreeMap::new(), len: 0 }
    }

    /// How many items it holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// The (partition, sort) key of an item, or why it has none. With
    /// `exact`, the map must be a key: its key attributes and nothing else.
    pub(crate) fn key_of<'a>(&self, item: &'a Item, exact: bool) -> Result<(&'a str, &'a str), String> {
        let hash = string_key(item, &self.keys.hash)?;
        let range = match &self.keys.range {
            Some(range) => string_key(item, range)?,
            None => "",
        };
        let wanted = 1 + usize::from(self.keys.range.is_some());
        if exact && item.len() != wanted {
            return Err("The provided key element does not match the schema".to_owned());
        }
        Ok((hash, range))
    }

    /// The item with this key.
    pub(crate) fn get(&self, hash: &str, range: &str) -> Option<&Item> {
        self.partitions.get(hash).and_then(|partition| partition.get(range))
    }

    /// Puts `item`, replacing the one with the same key.
    pub(crate) fn put(&mut self, item: Item) -> Result<(), String> {
        let (hash, range) = self.key_of(&item, false)?;
        let (hash, range) = (hash.to_owned(), range.to_owned());
        if self.partitions.entry(hash).or_default().insert(range, item).is_none() {
            self.len += 1;
        }
        Ok(())
    }

    /// Up to `limit` items of the partition `hash` (all when `None`), in sort
    /// key order, after the sort key `after` when given.
    pub(crate) fn query(&self, hash: &str, after: Option<&str>, limit: Option<usize>) -> Page<'_> {
        let Some(partition) = self.partitions.get(hash) else {
            return Page { items: Vec::new(), last_evaluated_key: None };
        };
        let start = after.map_or(Bound::Unbounded, Bound::Excluded);
        let range = partition.range::<str, _>((start, Bound::Unbounded));
        let entries: Vec<(&String, &Item)> = range.take(limit.unwrap_or(usize::MAX)).collect();
        // Like DynamoDB: a query the limit stopped says where, even when
        // nothing is left (the next page is then empty).
        let stopped = limit.is_some_and(|limit| entries.len() == limit);
        let last_evaluated_key = match entries.last() {
            Some((sk, _)) if stopped => Some(self.key(hash, sk)),
            _ => None,
        };
        let items = entries.into_iter().map(|(_, item)| item).collect();
        Page { items, last_evaluated_key }
    }

    /// The key of the item at (`hash`, `range`), as DynamoDB writes keys.
    fn key(&self, hash: &str, range: &str) -> Item {
        let mut key = Map::new();
        key.insert(self.keys.hash.clone(), json!({"S": hash}));
        if let Some(name) = &self.keys.range {
            key.insert(name.clone(), json!({"S": range}));
        }
        key
    }
}

/// The string value of the key attribute `name` of `item`.
fn string_key<'a>(item: &'a Item, name: &str) -> Result<&'a str, String> {
    match item.get(name) {
        Some(Value::Object(value)) if value.len() == 1 => match value.get("S") {
            Some(Value::String(s)) if !s.is_empty() => Ok(s),
            Some(Value::String(_)) => Err(format!(
                "One or more parameter values are not valid: the key attribute `{name}` is an empty string"
            )),
            _ => Err(format!("the key attribute `{name}` is not a string (`S`): the stand-in keeps string keys only")),
        },
        Some(_) => Err(format!("the key attribute `{name}` is not an attribute value such as {{\"S\": \"...\"}}")),
        None => Err(format!("One or more parameter values were invalid: Missing the key {name} in the item")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(n: usize) -> Table {
        let keys = KeySchema { hash: "pk".to_owned(), range: Some("sk".to_owned()) };
        let mut table = Table::new(keys, 0.0);
        for i in 0..n {
            let item = json!({"pk": {"S": "event#E"}, "sk": {"S": format!("user{i:05}")}, "n": {"N": i.to_string()}});
            table.put(item.as_object().cloned().unwrap_or_default()).unwrap();
        }
        // Another partition, which no query of `event#E` may return.
        table.put(json!({"pk": {"S": "event#F"}, "sk": {"S": "user00000"}}).as_object().cloned().unwrap()).unwrap();
        table
    }

    /// Every page of the partition, following `LastEvaluatedKey`; the items' `sk`.
    fn pages(table: &Table, limit: usize) -> Vec<(Vec<String>, bool)> {
        let mut pages = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let page = table.query("event#E", after.as_deref(), Some(limit));
            let sks = page.items.iter().map(|item| item["sk"]["S"].as_str().unwrap().to_owned()).collect();
            let last = page.last_evaluated_key.map(|key| {
                assert_eq!(key["pk"], json!({"S": "event#E"}));
                key["sk"]["S"].as_str().unwrap().to_owned()
            });
            pages.push((sks, last.is_some()));
            match last {
                Some(last) => after = Some(last),
                None => return pages,
            }
        }
    }

    #[test]
    fn pages_give_every_item_once_and_no_last_key_on_the_last_page() {
        let table = table(2_500);
        let pages = pages(&table, 1_000);
        let sizes: Vec<(usize, bool)> = pages.iter().map(|(items, more)| (items.len(), *more)).collect();
        assert_eq!(sizes, [(1_000, true), (1_000, true), (500, false)]);
        let all: Vec<String> = pages.into_iter().flat_map(|(items, _)| items).collect();
        let expected: Vec<String> = (0..2_500).map(|i| format!("user{i:05}")).collect();
        assert_eq!(all, expected);
    }

    #[test]
    fn a_page_that_ends_at_the_limit_has_a_last_key_and_the_next_one_is_empty() {
        let table = table(2_000);
        let sizes: Vec<(usize, bool)> = pages(&table, 1_000).iter().map(|(items, more)| (items.len(), *more)).collect();
        assert_eq!(sizes, [(1_000, true), (1_000, true), (0, false)]);
        let all = table.query("event#E", None, None);
        assert_eq!((all.items.len(), all.last_evaluated_key.is_none()), (2_000, true));
        assert!(table.query("event#none", None, Some(10)).items.is_empty());
    }

    #[test]
    fn a_put_replaces_the_item_with_the_same_key() {
        let mut table = table(3);
        assert_eq!(table.len(), 4);
        let item = json!({"pk": {"S": "event#E"}, "sk": {"S": "user00001"}, "x": {"BOOL": true}});
        table.put(item.as_object().cloned().unwrap()).unwrap();
        assert_eq!(table.len(), 4);
        assert_eq!(table.get("event#E", "user00001").map(|item| item["x"].clone()), Some(json!({"BOOL": true})));
        let keyless = json!({"pk": {"S": "event#E"}});
        assert!(table.put(keyless.as_object().cloned().unwrap()).unwrap_err().contains("Missing the key sk"));
    }
}
