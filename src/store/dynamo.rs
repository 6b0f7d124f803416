//! The store in a DynamoDB table: partition key `pk` (string), value `v` (string), expiry
//! `exp` (number, Unix seconds; the table's TTL attribute, so DynamoDB deletes expired
//! items on its own). Reads are strongly consistent; [`Store::create`] and [`Store::take`]
//! are single conditional writes, atomic across every process sharing the table.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnValue};

use super::{DEADLINE, Key, Prefix, Store, StoreError, epoch};
use crate::clock::Clock;

/// The table's attribute names.
pub const KEY: &str = "pk";
pub const VALUE: &str = "v";
pub const EXPIRES: &str = "exp";

/// A DynamoDB client with the shared timeouts and retries.
#[must_use]
pub fn client(sdk: &aws_config::SdkConfig) -> Client {
    Client::new(sdk)
}

/// The DynamoDB store.
#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
    clock: Arc<dyn Clock>,
}

impl DynamoStore {
    #[must_use]
    pub fn new(client: Client, table: String, clock: Arc<dyn Clock>) -> Self {
        Self {
            client,
            table,
            clock,
        }
    }

    fn now(&self) -> AttributeValue {
        AttributeValue::N(epoch(self.clock.now()).to_string())
    }
}

fn item(key: &str, value: &str, expires: SystemTime) -> HashMap<String, AttributeValue> {
    HashMap::from([
        (KEY.to_owned(), AttributeValue::S(key.to_owned())),
        (VALUE.to_owned(), AttributeValue::S(value.to_owned())),
        (
            EXPIRES.to_owned(),
            AttributeValue::N(epoch(expires).to_string()),
        ),
    ])
}

fn value_of(item: Option<&HashMap<String, AttributeValue>>, now: i64) -> Option<String> {
    let item = item?;
    let expires: i64 = item.get(EXPIRES)?.as_n().ok()?.parse().ok()?;
    (expires > now).then(|| item.get(VALUE)?.as_s().ok().cloned())?
}

/// Runs `call` within the store deadline.
async fn timed<T, E>(
    call: impl std::future::Future<Output = Result<T, SdkError<E>>>,
) -> Result<Result<T, SdkError<E>>, StoreError> {
    tokio::time::timeout(DEADLINE, call)
        .await
        .map_err(|_| StoreError::Timeout(DEADLINE))
}

/// A conditional write's outcome: written, refused by its condition, or failed.
fn conditional<T, E>(result: Result<T, SdkError<E>>) -> Result<Option<T>, StoreError>
where
    E: std::error::Error + ConditionFailed + Send + Sync + 'static,
{
    match result {
        Ok(out) => Ok(Some(out)),
        Err(e)
            if e.as_service_error()
                .is_some_and(ConditionFailed::condition_failed) =>
        {
            Ok(None)
        }
        Err(e) => Err(backend(e)),
    }
}

/// The service errors that say "the condition did not hold".
trait ConditionFailed {
    fn condition_failed(&self) -> bool;
}

impl ConditionFailed for aws_sdk_dynamodb::operation::put_item::PutItemError {
    fn condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionFailed for aws_sdk_dynamodb::operation::delete_item::DeleteItemError {
    fn condition_failed(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

fn backend<E: std::error::Error + Send + Sync + 'static>(error: SdkError<E>) -> StoreError {
    StoreError::backend(error)
}

#[async_trait::async_trait]
impl Store for DynamoStore {
    async fn get(&self, key: &Key) -> Result<Option<String>, StoreError> {
        let key = key.as_str();
        let out = timed(
            self.client
                .get_item()
                .table_name(&self.table)
                .key(KEY, AttributeValue::S(key.to_owned()))
                .consistent_read(true)
                .send(),
        )
        .await?
        .map_err(backend)?;
        Ok(value_of(out.item(), epoch(self.clock.now())))
    }

    async fn put(&self, key: &Key, value: &str, expires: SystemTime) -> Result<(), StoreError> {
        let key = key.as_str();
        timed(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item(key, value, expires)))
                .send(),
        )
        .await?
        .map_err(backend)?;
        Ok(())
    }

    async fn create(
        &self,
        key: &Key,
        value: &str,
        expires: SystemTime,
    ) -> Result<bool, StoreError> {
        let key = key.as_str();
        let result = timed(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item(key, value, expires)))
                .condition_expression("attribute_not_exists(#k) OR #e <= :now")
                .expression_attribute_names("#k", KEY)
                .expression_attribute_names("#e", EXPIRES)
                .expression_attribute_values(":now", self.now())
                .send(),
        )
        .await?;
        Ok(conditional(result)?.is_some())
    }

    async fn take(&self, key: &Key) -> Result<Option<String>, StoreError> {
        let key = key.as_str();
        let result = timed(
            self.client
                .delete_item()
                .table_name(&self.table)
                .key(KEY, AttributeValue::S(key.to_owned()))
                .condition_expression("#e > :now")
                .expression_attribute_names("#e", EXPIRES)
                .expression_attribute_values(":now", self.now())
                .return_values(ReturnValue::AllOld)
                .send(),
        )
        .await?;
        Ok(conditional(result)?
            .and_then(|out| value_of(out.attributes(), epoch(self.clock.now()) - 1)))
    }

    async fn delete(&self, key: &Key) -> Result<(), StoreError> {
        let key = key.as_str();
        timed(
            self.client
                .delete_item()
                .table_name(&self.table)
                .key(KEY, AttributeValue::S(key.to_owned()))
                .send(),
        )
        .await?
        .map_err(backend)?;
        Ok(())
    }

    async fn replace(
        &self,
        key: &Key,
        expected: &str,
        value: &str,
        expires: SystemTime,
    ) -> Result<bool, StoreError> {
        let key = key.as_str();
        let result = timed(
            self.client
                .put_item()
                .table_name(&self.table)
                .set_item(Some(item(key, value, expires)))
                .condition_expression("#v = :old AND #e > :now")
                .expression_attribute_names("#v", VALUE)
                .expression_attribute_names("#e", EXPIRES)
                .expression_attribute_values(":old", AttributeValue::S(expected.to_owned()))
                .expression_attribute_values(":now", self.now())
                .send(),
        )
        .await?;
        Ok(conditional(result)?.is_some())
    }

    async fn list(&self, prefix: Prefix) -> Result<Vec<(Key, String)>, StoreError> {
        let prefix = prefix.as_str();
        // Every page within one deadline, not one each.
        tokio::time::timeout(DEADLINE * 2, self.scan(prefix))
            .await
            .map_err(|_| StoreError::Timeout(DEADLINE * 2))?
    }
}

impl DynamoStore {
    async fn scan(&self, prefix: &str) -> Result<Vec<(Key, String)>, StoreError> {
        // A scan with a key filter: the sets listed (the delivery queue, a day of events)
        // are small, and a table with one key schema keeps the store one trait.
        let now = epoch(self.clock.now());
        let mut out = Vec::new();
        let mut start: Option<HashMap<String, AttributeValue>> = None;
        loop {
            let page = timed(
                self.client
                    .scan()
                    .table_name(&self.table)
                    .consistent_read(true)
                    .filter_expression("begins_with(#k, :p)")
                    .expression_attribute_names("#k", KEY)
                    .expression_attribute_values(":p", AttributeValue::S(prefix.to_owned()))
                    .set_exclusive_start_key(start.take())
                    .send(),
            )
            .await?
            .map_err(backend)?;
            for item in page.items() {
                if let (Some(key), Some(value)) = (
                    item.get(KEY).and_then(|k| k.as_s().ok()),
                    value_of(Some(item), now),
                ) {
                    out.push((Key::listed(key.clone()), value));
                }
            }
            match page.last_evaluated_key() {
                Some(last) if !last.is_empty() => start = Some(last.clone()),
                _ => break,
            }
        }
        out.sort();
        Ok(out)
    }
}
