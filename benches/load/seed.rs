//! `seed`: the data set of a load run, made over HTTP as a client would: a main user with a
//! few tasks (the list, get and write scenarios), a heavy user with many (page 50 versus page
//! 1), and other users with theirs, so every query runs among other people's data.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use serde_json::{Value, json};

use crate::Args;

const PASSWORD: &str = "load-harness-password";
const PAGE_SIZE: usize = 20;

/// Who gets how many tasks.
struct Plan {
    base: String,
    main_tasks: usize,
    heavy_tasks: usize,
    others: usize,
    other_tasks: usize,
    concurrency: usize,
    ids: usize,
}

/// One registered user.
struct Account {
    email: String,
    token: String,
}

pub(crate) fn run(args: &Args) -> Result<(), String> {
    let plan = Plan {
        base: args.text("base")?.trim_end_matches('/').to_owned(),
        main_tasks: args.number("main-tasks", 1_000)?,
        heavy_tasks: args.number("heavy-tasks", 100_000)?,
        others: args.number("others", 50)?,
        other_tasks: args.number("other-tasks", 200)?,
        concurrency: args.number("concurrency", 64)?.max(1),
        ids: args.number("ids", 200)?,
    };
    let out = args.text("out")?.to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let state = runtime.block_on(seed(&plan))?;
    let text = serde_json::to_string_pretty(&state).map_err(|e| e.to_string())?;
    std::fs::write(&out, text).map_err(|e| format!("{out}: {e}"))
}

async fn seed(plan: &Plan) -> Result<Value, String> {
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(plan.concurrency)
        .build()
        .map_err(|e| e.to_string())?;
    let emails: Vec<String> = ["main", "heavy"]
        .into_iter()
        .map(str::to_owned)
        .chain((0..plan.others).map(|i| format!("other{i}")))
        .map(|name| format!("{name}@load.test"))
        .collect();
    let started = Instant::now();
    let accounts = register_all(&client, &plan.base, emails, plan.concurrency).await?;
    let register_secs = started.elapsed().as_secs_f64();
    let counts: Vec<usize> = [plan.main_tasks, plan.heavy_tasks]
        .into_iter()
        .chain(std::iter::repeat_n(plan.other_tasks, plan.others))
        .collect();
    let started = Instant::now();
    let ids = create_all(&client, plan, &accounts, &counts).await?;
    let task_secs = started.elapsed().as_secs_f64();
    let total: usize = counts.iter().sum();
    let heavy = &accounts[1];
    let page50 = cursor_of_page(&client, &plan.base, &heavy.token, 50).await?;
    Ok(json!({
        "base": plan.base,
        "password": PASSWORD,
        "main": { "email": accounts[0].email, "token": accounts[0].token, "task_ids": ids },
        "heavy": {
            "email": heavy.email,
            "token": heavy.token,
            "page1": format!("/api/v1/tasks?limit={PAGE_SIZE}"),
            "page50": page50.map(|c| format!("/api/v1/tasks?limit={PAGE_SIZE}&cursor={c}")),
        },
        "seed": {
            "users": accounts.len(),
            "register_seconds": register_secs,
            "tasks": total,
            "task_seconds": task_secs,
            "tasks_per_second": f64::from(u32::try_from(total).unwrap_or(u32::MAX)) / task_secs.max(1e-9),
            "concurrency": plan.concurrency,
        },
    }))
}

async fn register_all(
    client: &reqwest::Client,
    base: &str,
    emails: Vec<String>,
    concurrency: usize,
) -> Result<Vec<Account>, String> {
    // Argon2 makes each registration cost tens of ms: a few in flight keep the server busy.
    let mut accounts = Vec::with_capacity(emails.len());
    for chunk in emails.chunks(concurrency.min(8)) {
        let batch = chunk
            .iter()
            .map(|email| register(client, base, email.clone()));
        for account in futures_join(batch).await {
            accounts.push(account?);
        }
    }
    Ok(accounts)
}

async fn futures_join<F: Future + Send + 'static>(
    futures: impl Iterator<Item = F>,
) -> Vec<F::Output>
where
    F::Output: Send,
{
    let handles: Vec<_> = futures.map(tokio::spawn).collect();
    let mut out = Vec::with_capacity(handles.len());
    for handle in handles {
        if let Ok(value) = handle.await {
            out.push(value);
        }
    }
    out
}

fn register(
    client: &reqwest::Client,
    base: &str,
    email: String,
) -> impl Future<Output = Result<Account, String>> + Send + 'static {
    let (client, base) = (client.clone(), base.to_owned());
    async move {
        let credentials = json!({ "email": email, "password": PASSWORD });
        let response = post(
            &client,
            &format!("{base}/api/v1/auth/register"),
            &credentials,
            None,
        )
        .await?;
        // An account left by an earlier seed of the same store is reused.
        if !(response.0 == 201 || response.0 == 409) {
            return Err(format!(
                "register {email}: HTTP {}: {}",
                response.0, response.1
            ));
        }
        let grant = json!({ "grant_type": "password", "email": email, "password": PASSWORD });
        let (status, body) =
            post(&client, &format!("{base}/api/v1/auth/token"), &grant, None).await?;
        let token = body["access_token"]
            .as_str()
            .filter(|_| status == 200)
            .ok_or_else(|| format!("token for {email}: HTTP {status}: {body}"))?
            .to_owned();
        Ok(Account { email, token })
    }
}

async fn post(
    client: &reqwest::Client,
    url: &str,
    body: &Value,
    token: Option<&str>,
) -> Result<(u16, Value), String> {
    let mut request = client.post(url).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request
        .send()
        .await
        .map_err(|e| format!("POST {url}: {e}"))?;
    let status = response.status().as_u16();
    let body = response.json().await.unwrap_or(Value::Null);
    Ok((status, body))
}

/// The body of the `i`th task: a third each low/medium/high, a tenth tagged, two thirds dated.
pub(crate) fn task_body(i: usize) -> Value {
    let priority = ["low", "medium", "high"][i % 3];
    let tags: Vec<&str> = if i.is_multiple_of(10) {
        vec!["work"]
    } else {
        vec![]
    };
    let due = (!i.is_multiple_of(3)).then(|| format!("2027-01-{:02}T10:00:00Z", 1 + i % 28));
    json!({ "title": format!("Seeded task {i}"), "priority": priority, "tags": tags, "due_at": due })
}

async fn create_all(
    client: &reqwest::Client,
    plan: &Plan,
    accounts: &[Account],
    counts: &[usize],
) -> Result<Vec<String>, String> {
    // Job j belongs to the user whose running total first exceeds j.
    let bounds: Arc<Vec<usize>> = Arc::new(
        counts
            .iter()
            .scan(0, |sum, n| {
                *sum += n;
                Some(*sum)
            })
            .collect(),
    );
    let total = bounds.last().copied().unwrap_or(0);
    let tokens: Arc<Vec<String>> = Arc::new(accounts.iter().map(|a| a.token.clone()).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let url = format!("{}/api/v1/tasks", plan.base);
    let want_ids = plan.ids;
    let workers = (0..plan.concurrency).map(|_| {
        let (client, url, tokens, bounds, next) = (
            client.clone(),
            url.clone(),
            Arc::clone(&tokens),
            Arc::clone(&bounds),
            Arc::clone(&next),
        );
        async move {
            let mut ids = Vec::new();
            loop {
                let job = next.fetch_add(1, Ordering::Relaxed);
                if job >= total {
                    return Ok::<_, String>(ids);
                }
                let user = bounds.partition_point(|&end| end <= job);
                let first = if user == 0 { 0 } else { bounds[user - 1] };
                let (status, body) =
                    post(&client, &url, &task_body(job - first), Some(&tokens[user])).await?;
                if status != 201 {
                    return Err(format!("create task: HTTP {status}: {body}"));
                }
                if user == 0 && ids.len() < want_ids {
                    ids.extend(body["id"].as_str().map(str::to_owned));
                }
            }
        }
    });
    let mut ids = Vec::new();
    for result in futures_join(workers).await {
        ids.extend(result?);
    }
    ids.truncate(want_ids);
    Ok(ids)
}

/// The cursor that opens page `page` of the default listing, walked page by page.
async fn cursor_of_page(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    page: usize,
) -> Result<Option<String>, String> {
    let mut cursor: Option<String> = None;
    for _ in 1..page {
        let mut query = vec![("limit", PAGE_SIZE.to_string())];
        query.extend(cursor.clone().map(|c| ("cursor", c)));
        let response = client
            .get(format!("{base}/api/v1/tasks"))
            .query(&query)
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| format!("list: {e}"))?;
        let body: Value = response.json().await.map_err(|e| format!("list: {e}"))?;
        match body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return Ok(None),
        }
    }
    Ok(cursor)
}
