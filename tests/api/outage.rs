//! Storage outages: every endpoint that needs storage answers 503 problem+json with
//! `Retry-After`, quickly and without leaking the cause; liveness stays 200, readiness 503.

use std::sync::Arc;

use async_trait::async_trait;
use reqwest::header::HeaderMap;
use serde_json::json;
use taskflow::core::auth::refresh::RefreshTokenHash;
use taskflow::core::auth::session::{RefreshTokenRecord, Session};
use taskflow::core::auth::throttle::FailureState;
use taskflow::core::domain::{Email, PasswordHash, SessionId, Task, TaskId, User, UserId};
use taskflow::core::ports::{
    InsertUserError, LoginThrottleRepository, SessionRepository, StorageHealth, TaskRepository,
    UserRepository,
};
use taskflow::core::query::{ListRequest, TaskStats};
use taskflow::core::{StorageError, SystemClock, Timestamp};
use taskflow::http::Stores;

use crate::helpers::*;

/// A store whose server is gone: every call fails as unreachable, with a cause that must
/// never reach a client.
#[derive(Clone)]
struct DownStore;

fn down() -> StorageError {
    StorageError::Unavailable("connection refused by db-7.internal:27017".into())
}

#[async_trait]
impl UserRepository for DownStore {
    async fn insert_user(&self, _: &User) -> Result<(), InsertUserError> {
        Err(down().into())
    }
    async fn find_user_by_id(&self, _: &UserId) -> Result<Option<User>, StorageError> {
        Err(down())
    }
    async fn find_user_by_email(&self, _: &Email) -> Result<Option<User>, StorageError> {
        Err(down())
    }
    async fn set_password_hash(&self, _: &UserId, _: &PasswordHash) -> Result<bool, StorageError> {
        Err(down())
    }
}

#[async_trait]
impl TaskRepository for DownStore {
    async fn insert_task(&self, _: &Task) -> Result<(), StorageError> {
        Err(down())
    }
    async fn get_task(&self, _: &UserId, _: &TaskId) -> Result<Option<Task>, StorageError> {
        Err(down())
    }
    async fn replace_task(&self, _: &Task, _: u64) -> Result<bool, StorageError> {
        Err(down())
    }
    async fn delete_task(&self, _: &UserId, _: &TaskId) -> Result<bool, StorageError> {
        Err(down())
    }
    async fn list_tasks(&self, _: &UserId, _: &ListRequest) -> Result<Vec<Task>, StorageError> {
        Err(down())
    }
    async fn task_stats(&self, _: &UserId, _: Timestamp) -> Result<TaskStats, StorageError> {
        Err(down())
    }
}

#[async_trait]
impl SessionRepository for DownStore {
    async fn create_session(
        &self,
        _: &Session,
        _: &RefreshTokenRecord,
    ) -> Result<(), StorageError> {
        Err(down())
    }
    async fn get_session(
        &self,
        _: &UserId,
        _: &SessionId,
    ) -> Result<Option<Session>, StorageError> {
        Err(down())
    }
    async fn use_refresh_token(
        &self,
        _: &UserId,
        _: &RefreshTokenHash,
        _: Timestamp,
    ) -> Result<Option<RefreshTokenRecord>, StorageError> {
        Err(down())
    }
    async fn add_refresh_token(
        &self,
        _: &RefreshTokenRecord,
        _: Timestamp,
    ) -> Result<bool, StorageError> {
        Err(down())
    }
    async fn revoke_session(
        &self,
        _: &UserId,
        _: &SessionId,
        _: Timestamp,
    ) -> Result<bool, StorageError> {
        Err(down())
    }
    async fn revoke_all_sessions(&self, _: &UserId, _: Timestamp) -> Result<u64, StorageError> {
        Err(down())
    }
    async fn list_sessions(&self, _: &UserId) -> Result<Vec<Session>, StorageError> {
        Err(down())
    }
}

#[async_trait]
impl LoginThrottleRepository for DownStore {
    async fn login_failures(&self, _: &Email) -> Result<Option<FailureState>, StorageError> {
        Err(down())
    }
    async fn record_login_failure(
        &self,
        _: &Email,
        _: Timestamp,
        _: std::time::Duration,
    ) -> Result<FailureState, StorageError> {
        Err(down())
    }
    async fn clear_login_failures(&self, _: &Email) -> Result<(), StorageError> {
        Err(down())
    }
}

#[async_trait]
impl StorageHealth for DownStore {
    async fn ping(&self) -> Result<(), StorageError> {
        Err(down())
    }
}

async fn spawn_down() -> TestApp {
    TestApp::spawn_full(&[], Stores::single(DownStore), Arc::new(SystemClock), None).await
}

async fn assert_unavailable(response: reqwest::Response) {
    assert_eq!(header(&response, "retry-after"), Some("5"));
    let problem = assert_problem(response, 503, "storage_unavailable").await;
    assert!(!problem.to_string().contains("db-7"), "{problem}");
}

#[tokio::test]
async fn readiness_fails_while_liveness_holds() {
    let app = spawn_down().await;
    assert_eq!(
        app.get("/health/live", HeaderMap::new()).await.status(),
        200
    );
    assert_unavailable(app.get("/health/ready", HeaderMap::new()).await).await;
    let metrics = app.get("/metrics", HeaderMap::new()).await;
    assert_eq!(metrics.status(), 200, "metrics need no storage");
    let text = metrics.text().await.expect("metrics");
    let series = r#"taskflow_storage_errors_total{kind="unavailable"} 1"#;
    assert!(text.lines().any(|l| l == series), "{series} in\n{text}");
}

#[tokio::test]
async fn auth_endpoints_answer_503_not_500() {
    let app = spawn_down().await;
    let body = json!({"email": "down@example.com", "password": TestUser::PASSWORD});
    assert_unavailable(
        app.post("/api/v1/auth/register", &body, HeaderMap::new())
            .await,
    )
    .await;
    assert_unavailable(
        app.post("/api/v1/auth/login", &body, HeaderMap::new())
            .await,
    )
    .await;
}

#[tokio::test]
async fn authenticated_endpoints_answer_503_when_the_session_check_cannot_run() {
    // A token the server itself signed: authentication reaches the session check and storage.
    let healthy = TestApp::spawn_with(&[("TASKFLOW_JWT_SECRET", SECRET)]).await;
    let user = healthy.register("down@example.com").await;
    let app = TestApp::spawn_full(
        &[("TASKFLOW_JWT_SECRET", SECRET)],
        Stores::single(DownStore),
        Arc::new(SystemClock),
        None,
    )
    .await;
    for path in ["/api/v1/tasks", "/api/v1/tasks/stats", "/api/v1/auth/me"] {
        assert_unavailable(app.get(path, bearer(user.access())).await).await;
    }
}

const SECRET: &str = "outage-test-key-0123456789abcdef0123456789";
