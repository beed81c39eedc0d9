//! DynamoDB's JSON protocol (awsJson1_0): the operation in `X-Amz-Target:
//! DynamoDB_20120810.<Operation>`, a JSON body each way, errors as
//! `{"__type": "com.amazonaws.dynamodb.v20120810#<Code>", "message": ...}`
//! with status 400.
//!
//! Only what `proactive queue fanout` and the seeding of `bench/` call:
//! CreateTable, DescribeTable, GetItem, PutItem, Query on the partition key,
//! BatchWriteItem of puts. A request field the stand-in does not implement
//! (a condition, a filter, a projection, a delete in a batch, ...) is refused
//! with a `ValidationException` that names it rather than ignored, and an
//! operation it does not implement with an `UnknownOperationException`.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sqs_stand_in::ApiError;

use crate::table::{Item, KeySchema, Table};

/// DynamoDB's limit on the requests of one BatchWriteItem.
const MAX_BATCH_WRITE: usize = 25;

/// Every table, by name.
#[derive(Default)]
pub(crate) struct Tables {
    tables: Mutex<HashMap<String, Table>>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError { code: "ValidationException", message: message.into() }
}

fn not_found(table: &str) -> ApiError {
    ApiError {
        code: "ResourceNotFoundException",
        message: format!("Requested resource not found: Table: {table} not found"),
    }
}

impl Tables {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, Table>> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Answers one call: the response body, or a refusal.
pub(crate) fn answer(tables: &Tables, operation: &str, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let mut tables = tables.lock();
    let value = match operation {
        "Query" => return query(&tables, parse(body)?),
        "GetItem" => get_item(&tables, parse(body)?)?,
        "PutItem" => put_item(&mut tables, parse(body)?)?,
        "BatchWriteItem" => batch_write(&mut tables, parse(body)?)?,
        "DescribeTable" => {
            let request: DescribeTable = parse(body)?;
            let table = tables.get(&request.table_name).ok_or_else(|| not_found(&request.table_name))?;
            json!({"Table": describe(&request.table_name, table)})
        }
        "CreateTable" => create_table(&mut tables, parse(body)?)?,
        other => {
            return Err(ApiError {
                code: "UnknownOperationException",
                message: format!("the DynamoDB stand-in does not implement `{other}`; use moto for it"),
            });
        }
    };
    Ok(value.to_string().into_bytes())
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| {
        let code = if e.is_data() { "ValidationException" } else { "SerializationException" };
        ApiError { code, message: format!("the DynamoDB stand-in cannot take this request: {e}") }
    })
}

fn table<'a>(tables: &'a HashMap<String, Table>, name: &str) -> Result<&'a Table, ApiError> {
    tables.get(name).ok_or_else(|| not_found(name))
}

fn table_mut<'a>(tables: &'a mut HashMap<String, Table>, name: &str) -> Result<&'a mut Table, ApiError> {
    tables.get_mut(name).ok_or_else(|| not_found(name))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct KeySchemaElement {
    attribute_name: String,
    key_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct AttributeDefinition {
    attribute_name: String,
    attribute_type: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct CreateTable {
    table_name: String,
    key_schema: Vec<KeySchemaElement>,
    attribute_definitions: Vec<AttributeDefinition>,
    // Capacity means nothing here.
    #[serde(default, rename = "BillingMode")]
    _billing_mode: Option<String>,
    #[serde(default, rename = "ProvisionedThroughput")]
    _provisioned_throughput: Option<Value>,
}

fn create_table(tables: &mut HashMap<String, Table>, request: CreateTable) -> Result<Value, ApiError> {
    if tables.contains_key(&request.table_name) {
        return Err(ApiError {
            code: "ResourceInUseException",
            message: format!("Table already exists: {}", request.table_name),
        });
    }
    let named = |key_type: &str| {
        let mut names = request.key_schema.iter().filter(|k| k.key_type == key_type).map(|k| &k.attribute_name);
        (names.next().cloned(), names.next().is_some())
    };
    let (hash, range) = match (named("HASH"), named("RANGE")) {
        ((Some(hash), false), (range, false)) if request.key_schema.len() == 1 + usize::from(range.is_some()) => {
            (hash, range)
        }
        _ => return Err(invalid("the KeySchema must have one HASH key and at most one RANGE key")),
    };
    for name in std::iter::once(&hash).chain(&range) {
        let defined = request.attribute_definitions.iter().find(|d| d.attribute_name == *name);
        match defined.map(|d| d.attribute_type.as_str()) {
            Some("S") => {}
            Some(other) => {
                return Err(invalid(format!(
                    "the key `{name}` is of type {other}: the DynamoDB stand-in keeps string (S) keys only"
                )));
            }
            None => return Err(invalid(format!("the key `{name}` is not in the AttributeDefinitions"))),
        }
    }
    let created = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64());
    let table = Table::new(KeySchema { hash, range }, created);
    let description = describe(&request.table_name, &table);
    tables.insert(request.table_name, table);
    Ok(json!({"TableDescription": description}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct DescribeTable {
    table_name: String,
}

/// What DescribeTable and CreateTable say of a table: always ACTIVE, on demand.
fn describe(name: &str, table: &Table) -> Value {
    let mut key_schema = vec![json!({"AttributeName": table.keys.hash, "KeyType": "HASH"})];
    let mut definitions = vec![json!({"AttributeName": table.keys.hash, "AttributeType": "S"})];
    if let Some(range) = &table.keys.range {
        key_schema.push(json!({"AttributeName": range, "KeyType": "RANGE"}));
        definitions.push(json!({"AttributeName": range, "AttributeType": "S"}));
    }
    json!({
        "TableName": name,
        "TableStatus": "ACTIVE",
        "TableArn": format!("arn:aws:dynamodb:us-east-1:000000000000:table/{name}"),
        "KeySchema": key_schema,
        "AttributeDefinitions": definitions,
        "CreationDateTime": table.created,
        "ItemCount": table.len(),
        "TableSizeBytes": 0,
        "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
        "ProvisionedThroughput": {"NumberOfDecreasesToday": 0, "ReadCapacityUnits": 0, "WriteCapacityUnits": 0},
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct GetItem {
    table_name: String,
    key: Item,
    // Every read is consistent: one thread, in memory.
    #[serde(default, rename = "ConsistentRead")]
    _consistent_read: Option<bool>,
}

fn get_item(tables: &HashMap<String, Table>, request: GetItem) -> Result<Value, ApiError> {
    let table = table(tables, &request.table_name)?;
    let (hash, range) = table.key_of(&request.key, true).map_err(invalid)?;
    Ok(match table.get(hash, range) {
        Some(item) => json!({"Item": item}),
        None => json!({}),
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PutItem {
    table_name: String,
    item: Item,
}

fn put_item(tables: &mut HashMap<String, Table>, request: PutItem) -> Result<Value, ApiError> {
    table_mut(tables, &request.table_name)?.put(request.item).map_err(invalid)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct WriteRequest {
    put_request: Option<PutRequest>,
    delete_request: Option<Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct PutRequest {
    item: Item,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct BatchWriteItem {
    request_items: HashMap<String, Vec<WriteRequest>>,
}

/// Checks the whole batch first, as DynamoDB does, then writes it all.
fn batch_write(tables: &mut HashMap<String, Table>, request: BatchWriteItem) -> Result<Value, ApiError> {
    let n: usize = request.request_items.values().map(Vec::len).sum();
    if !(1..=MAX_BATCH_WRITE).contains(&n) {
        return Err(invalid(format!("the batch has {n} requests; BatchWriteItem takes 1 to {MAX_BATCH_WRITE}")));
    }
    let mut puts = Vec::with_capacity(n);
    for (name, requests) in request.request_items {
        let table = table(tables, &name)?;
        let mut keys = HashSet::new();
        for request in &requests {
            let put = match request {
                WriteRequest { put_request: Some(put), delete_request: None } => put,
                WriteRequest { delete_request: Some(_), .. } => {
                    return Err(invalid("the DynamoDB stand-in implements only PutRequest in BatchWriteItem"));
                }
                WriteRequest { put_request: None, delete_request: None } => {
                    return Err(invalid("a WriteRequest has neither PutRequest nor DeleteRequest"));
                }
            };
            let key = table.key_of(&put.item, false).map_err(invalid)?;
            if !keys.insert(key) {
                return Err(invalid("Provided list of item keys contains duplicates"));
            }
        }
        puts.push((name, requests));
    }
    for (name, requests) in puts {
        let table = table_mut(tables, &name)?;
        for put in requests.into_iter().filter_map(|r| r.put_request) {
            table.put(put.item).map_err(invalid)?;
        }
    }
    Ok(json!({"UnprocessedItems": {}}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
struct Query {
    table_name: String,
    key_condition_expression: String,
    expression_attribute_values: Map<String, Value>,
    #[serde(default)]
    expression_attribute_names: HashMap<String, String>,
    limit: Option<u64>,
    exclusive_start_key: Option<Item>,
    // Every read is consistent: one thread, in memory.
    #[serde(default, rename = "ConsistentRead")]
    _consistent_read: Option<bool>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct QueryOutput<'a> {
    items: Vec<&'a Item>,
    count: usize,
    scanned_count: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_evaluated_key: Option<Item>,
}

/// A query of one partition, `<partition key> = :value`, in sort key order,
/// a page of `Limit` items at most (the 1 MB limit of a page is not kept).
fn query(tables: &HashMap<String, Table>, request: Query) -> Result<Vec<u8>, ApiError> {
    let table = table(tables, &request.table_name)?;
    let hash = partition(table, &request)?;
    let limit = match request.limit {
        Some(0) => return Err(invalid("Limit must be at least 1")),
        Some(limit) => Some(usize::try_from(limit).unwrap_or(usize::MAX)),
        None => None,
    };
    let after = match &request.exclusive_start_key {
        Some(key) => match table.key_of(key, true).map_err(invalid)? {
            (start_hash, range) if start_hash == hash => Some(range),
            _ => return Err(invalid("The provided starting key is invalid: it is not in the queried partition")),
        },
        None => None,
    };
    let page = table.query(hash, after, limit);
    let count = page.items.len();
    let output =
        QueryOutput { items: page.items, count, scanned_count: count, last_evaluated_key: page.last_evaluated_key };
    serde_json::to_vec(&output).map_err(|e| invalid(format!("cannot write the answer: {e}")))
}

/// The partition a query's `KeyConditionExpression` names: it must be
/// `<partition key> = :value` (or `#name = :value`), and nothing else.
fn partition<'a>(table: &Table, request: &'a Query) -> Result<&'a str, ApiError> {
    let expression = &request.key_condition_expression;
    let unsupported = || {
        invalid(format!(
            "the DynamoDB stand-in implements only the key condition `{} = :value`, not `{expression}`",
            table.keys.hash
        ))
    };
    let (name, value) = expression.split_once('=').ok_or_else(unsupported)?;
    let (name, value) = (name.trim(), value.trim());
    let name = match name.strip_prefix('#') {
        Some(_) => request.expression_attribute_names.get(name).map(String::as_str).ok_or_else(|| {
            invalid(format!("the expression attribute name `{name}` is not in ExpressionAttributeNames"))
        })?,
        None => name,
    };
    if name != table.keys.hash || !value.starts_with(':') || value.contains(char::is_whitespace) {
        return Err(unsupported());
    }
    match request.expression_attribute_values.get(value) {
        Some(Value::Object(v)) => match v.get("S") {
            Some(Value::String(s)) if v.len() == 1 => Ok(s),
            _ => Err(invalid(format!("the value `{value}` of the partition key is not a string (S)"))),
        },
        _ => Err(invalid(format!("the expression attribute value `{value}` is not in ExpressionAttributeValues"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(tables: &Tables, operation: &str, request: Value) -> Result<Value, ApiError> {
        let answer = answer(tables, operation, request.to_string().as_bytes())?;
        Ok(serde_json::from_slice(&answer).unwrap())
    }

    fn seeded(n: usize) -> Tables {
        let tables = Tables::default();
        call(
            &tables,
            "CreateTable",
            json!({"TableName": "t", "BillingMode": "PAY_PER_REQUEST",
                   "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
                   "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"},
                                            {"AttributeName": "sk", "AttributeType": "S"}]}),
        )
        .unwrap();
        let items: Vec<Value> = (0..n)
            .map(|i| json!({"PutRequest": {"Item": {"pk": {"S": "event#E"}, "sk": {"S": format!("u{i:05}")}}}}))
            .collect();
        for batch in items.chunks(MAX_BATCH_WRITE) {
            let answer = call(&tables, "BatchWriteItem", json!({"RequestItems": {"t": batch}})).unwrap();
            assert_eq!(answer, json!({"UnprocessedItems": {}}));
        }
        tables
    }

    #[test]
    fn a_query_pages_through_the_partition_with_its_last_evaluated_key() {
        let tables = seeded(2_500);
        let (mut seen, mut start, mut pages) = (Vec::new(), None::<Value>, 0);
        loop {
            let mut request = json!({"TableName": "t", "KeyConditionExpression": "pk = :pk",
                                     "ExpressionAttributeValues": {":pk": {"S": "event#E"}},
                                     "ConsistentRead": true, "Limit": 1000});
            if let Some(start) = start.take() {
                request["ExclusiveStartKey"] = start;
            }
            let page = call(&tables, "Query", request).unwrap();
            pages += 1;
            let items = page["Items"].as_array().unwrap();
            assert_eq!(
                (page["Count"].as_u64(), page["ScannedCount"].as_u64()),
                (Some(items.len() as u64), Some(items.len() as u64))
            );
            seen.extend(items.iter().map(|item| item["sk"]["S"].as_str().unwrap().to_owned()));
            match page.get("LastEvaluatedKey") {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }
        assert_eq!(pages, 3);
        assert_eq!(seen, (0..2_500).map(|i| format!("u{i:05}")).collect::<Vec<_>>());
    }

    #[test]
    fn what_is_not_implemented_is_refused_by_name() {
        let tables = seeded(1);
        let unknown = call(&tables, "Scan", json!({"TableName": "t"})).unwrap_err();
        assert_eq!(unknown.code, "UnknownOperationException");
        assert!(unknown.message.contains("`Scan`"), "{}", unknown.message);
        let filtered = json!({"TableName": "t", "KeyConditionExpression": "pk = :pk", "FilterExpression": "x = :pk",
                              "ExpressionAttributeValues": {":pk": {"S": "event#E"}}});
        let refused = call(&tables, "Query", filtered).unwrap_err();
        assert!(refused.message.contains("FilterExpression"), "{}", refused.message);
        let ranged = json!({"TableName": "t", "KeyConditionExpression": "pk = :pk AND sk > :pk",
                            "ExpressionAttributeValues": {":pk": {"S": "event#E"}}});
        assert_eq!(call(&tables, "Query", ranged).unwrap_err().code, "ValidationException");
        let missing = call(&tables, "DescribeTable", json!({"TableName": "nope"})).unwrap_err();
        assert_eq!(missing.code, "ResourceNotFoundException");
    }

    #[test]
    fn an_item_is_read_back_as_it_was_put() {
        let tables = seeded(0);
        let item = json!({"pk": {"S": "fanout#1"}, "sk": {"S": "checkpoint"}, "done": {"BOOL": false},
                          "enqueued": {"N": "1000"}, "events": {"L": [{"S": "E"}]}});
        call(&tables, "PutItem", json!({"TableName": "t", "Item": item})).unwrap();
        let key = json!({"pk": {"S": "fanout#1"}, "sk": {"S": "checkpoint"}});
        let got = call(&tables, "GetItem", json!({"TableName": "t", "Key": key, "ConsistentRead": true})).unwrap();
        assert_eq!(got, json!({"Item": item}));
        let absent = json!({"pk": {"S": "fanout#2"}, "sk": {"S": "checkpoint"}});
        assert_eq!(call(&tables, "GetItem", json!({"TableName": "t", "Key": absent})).unwrap(), json!({}));
        let table = call(&tables, "DescribeTable", json!({"TableName": "t"})).unwrap();
        assert_eq!(
            (table["Table"]["TableStatus"].as_str(), table["Table"]["ItemCount"].as_u64()),
            (Some("ACTIVE"), Some(1))
        );
    }
}
