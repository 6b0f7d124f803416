//! The integration tests, in one binary (one link per change instead of one per file):
//! each module is a suite, and `common` holds the helpers they share (moto, the stand-ins,
//! the test PKI and JWKS).

mod accounts;
mod accounts_act;
mod act;
mod alexa;
mod alexa_progress;
mod alexa_screen;
mod audit;
mod aws;
mod charts;
mod chat;
mod cli;
mod cognito;
mod common;
mod config;
mod faults;
mod fixtures;
mod hostile;
mod http;
mod identity;
mod infra;
mod infra_accounts;
mod lambda;
mod layers;
mod lex;
mod logs;
mod models;
mod notify;
mod phrasings;
mod places;
mod slack;
mod ssml;
mod store;
mod unsupported_action;
mod voice;
