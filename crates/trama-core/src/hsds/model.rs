//! The HSDS 3.0 objects as Rust types (Open Referral HSDS 3.0, `schema/*.json`).
//!
//! Field names and optionality follow the schema: fields it requires are plain values, the
//! others are `Option` and are left out of the JSON when absent (the schema has no `null`).
//! Identifiers are parsed as UUIDs. Generated once from the schema field lists, then kept by hand.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The details of the arrangements for access to locations for people who have disabilities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Accessibility {
    /// The identifier for this accessibility information. Each entry must have a unique identifier.
    pub id: Uuid,
    /// The identifier for the location of the accessibility provision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    /// A free text description of the assistance or infrastructure that facilitates access to clients with disabilities.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Any further details relating to the relevant accessibility arrangements at this location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub details: Option<String>,
    /// The URL of a page giving more information about the accessibility of the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The addresses of locations where organizations operate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Address {
    /// The identifier of the postal address. Each postal address must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the location for this postal address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    /// The name of the person or entity whose attention should be sought at the location. These are often included as a "care of" component of an address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<String>,
    /// The first line(s) of the address, including office, building number and street.
    pub address_1: String,
    /// A second (additional) line of address information.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_2: Option<String>,
    /// The city in which the address is located.
    pub city: String,
    /// The region in which the address is located (optional).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// The state or province in which the address is located.
    pub state_province: String,
    /// The postal code for the address.
    pub postal_code: String,
    /// The country in which the address is located. This should be given as an ISO 3361-1 country code (two letter abbreviation).
    pub country: String,
    /// The type of address which may be physical, postal, or virtual.
    pub address_type: String,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// A link between a service and one or more classifications that describe the nature of the service provided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Attribute {
    /// The identifier of the attribute entry. Each attribute entry should have a unique identifier.
    pub id: Uuid,
    /// The identifier of the entity to which this taxonomy term applies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_id: Option<Uuid>,
    /// The identifier of this taxonomy term from the taxonomy table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_term_id: Option<Uuid>,
    /// A code taken from an enumerated open codelist to indicate what the taxonomy term describes, e.g. the service eligibility or intended audience.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_type: Option<String>,
    /// The table of the Link Identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link_entity: Option<String>,
    /// The value (if any) of an attribute.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// Each service can be categorized according to one or more taxonomy terms. The taxonomy_term object contains a list of taxonomy terms, their names, and, for hierarchical taxonomies, their structure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_term: Option<Box<TaxonomyTerm>>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The details of the named contacts for services and organizations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Contact {
    /// The identifier for the contact. Each contact must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the organization for which this is a contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// The identifier of the service for which this is a contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// The identifier of the ‘service at location’ entry, when this contact is specific to a service in a particular location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_at_location_id: Option<Uuid>,
    /// The identifier for the location of the contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    /// The name of the contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The job title of the contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// The department that the contact is a part of.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// The email address of the contact.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The details of the telephone numbers used to contact organizations, services, and locations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Phone>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The costs of a service at certain points in time. This is an LGA Extension. This object provides a structured version of the text information contained in the 'fees' field of the 'service' object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct CostOption {
    /// The identifier for the cost option. Each entry must have a unique identifier
    pub id: Uuid,
    /// The identifier of the services for which the entry describes the cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// The date when this price is valid from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// The date when this price is valid to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// Conditions associated with the cost option.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub option: Option<String>,
    /// The 3 letter currency code of this cost option (expected to be gbp by Open Referral UK).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    /// The cost of the option, expressed as an amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<f64>,
    /// Specific details qualifying the cost amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount_description: Option<String>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The sources of funding for a service or organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Funding {
    /// The identifier for the funding. Each entry must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the organization in receipt of this funding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// The identifier of the service in receipt of this funding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// A free text description of the source of funds for this organization or service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The languages that are spoken at locations or services. This does not include languages which can only be used with interpretation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Language {
    /// The identifier for the language. Each entry must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the service for which the entry describes the languages in which services are delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// The identifier of the location for which the entry describes the languages in which services are delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    /// The identifier of the phone for which the entry describes the languages in which services delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone_id: Option<Uuid>,
    /// The name of the language in which the service is delivered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The ISO 639-1 or ISO 639-3 code for the language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// A free text description of any additional context or services provided for this language.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The locations where organizations operate. Locations may be virtual, and one organization may have many locations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Location {
    /// The identifier of the location. Each location must have a unique identifier.
    pub id: Uuid,
    /// The type of location, which may be either physical, postal, or virtual.
    pub location_type: String,
    /// If location_type is virtual, then this field represents the URL of a virtual location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// The organization identifier for a location. This is the organization that is responsible for maintaining information about this location. The identifier of the organization should be given here. De...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// The name of the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// An (optional) alternative name of the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_name: Option<String>,
    /// A free text description of the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A free text description of the access to public or private transportation to and from the location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transportation: Option<String>,
    /// The latitude of the location expressed in decimal degrees in WGS84 datum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latitude: Option<f64>,
    /// The longitude of the location expressed in decimal degrees in WGS84 datum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub longitude: Option<f64>,
    /// A third party identifier for the location, which can be drawn from other services e.g. UK UPRN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_identifier: Option<String>,
    /// The scheme used for the location's external_identifier e.g. UK UPRN.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_identifier_type: Option<String>,
    /// The languages that are spoken at locations or services. This does not include languages which can only be used with interpretation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Language>,
    /// The addresses of locations where organizations operate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
    /// The details of the named contacts for services and organizations. Note that in the HSDS data package format, if an individual is the contact for multiple services, their details may be duplicated m...
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// The details of the arrangements for access to locations for people who have disabilities
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub accessibility: Vec<Accessibility>,
    /// The details of the telephone numbers used to contact organizations, services, and locations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Phone>,
    /// The details of when a service or location is open. Entries are RFC 5545 RRULES.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// The metadata table contains a record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// A record of the changes that have been made to the data in order to maintain provenance information.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct MetadataEntry {
    /// The identifier for this metadata. Each entry must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the resource (service, program, location, address, or contact) that this metadata describes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<Uuid>,
    /// The type of entity being referenced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_type: Option<String>,
    /// The date when data was changed.
    pub last_action_date: String,
    /// The kind of change made to the data.
    pub last_action_type: String,
    /// The name of field that has been modified.
    pub field_name: String,
    /// The previous value of the field that has been modified.
    pub previous_value: String,
    /// The new value of the field that has been modified.
    pub replacement_value: String,
    /// The name of the person who modified the field.
    pub updated_by: String,
}

/// The details about each organization delivering services. Each service should be linked to the organization responsible for its delivery. One organization may deliver many services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Organization {
    /// The identifier for the organization. Each organization must have a unique identifier.
    pub id: Uuid,
    /// The official or public name of the organization.
    pub name: String,
    /// An (optional) alternative or commonly used name for the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_name: Option<String>,
    /// A free text description containing a brief summary about the organization. It can contain markup such as HTML or Markdown.
    pub description: String,
    /// The contact e-mail address for the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The URL (website address) of the organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub website: Option<String>,
    /// DEPRECATED: Government assigned tax designation for tax-exempt organizations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_status: Option<String>,
    /// DEPRECATED: A government issued identifier used for the purpose of tax administration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_id: Option<String>,
    /// The year in which the organization was legally formed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub year_incorporated: Option<f64>,
    /// The legal conditions that an organization is operating under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub legal_status: Option<String>,
    /// A URL to an image associated with the organization which can be presented alongside its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo: Option<String>,
    /// A persistent identifier to uniquely identify the organization such as those provided by Open Corporates or some other relevant URI provider. This is not for listing the website of the organization:...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The identifier of the organization's parent organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_organization_id: Option<Uuid>,
    /// The sources of funding for a service or organization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funding: Vec<Funding>,
    /// The details of the named contacts for services and organizations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// The details of the telephone numbers are used to contact organizations, services, and locations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Phone>,
    /// The details of the locations where organizations operate. Locations may be virtual, and one organization may have many locations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub locations: Vec<Location>,
    /// The details of collection of related services.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub programs: Vec<Program>,
    /// The details of the third party identifiers for organizations, such as: company registration number, charity number, tax registration number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organization_identifiers: Vec<OrganizationIdentifier>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
    /// The organization's services, in the nested (compiled) form.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<Service>,
}

/// The details of the third party identifiers for organizations, such as: company registration number, charity number, tax registration number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct OrganizationIdentifier {
    /// The identifier for this organization identifier entry. Each entry must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the organization. This should match the uuid of an organization object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// The scheme of the third party identifier, according to http://org-id.guide/.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identifier_scheme: Option<String>,
    /// A human-readable equivalent of the identifier_scheme. This may be used in cases where org-id.guide does not list an appropriate identifier scheme.
    pub identifier_type: String,
    /// The third-party identifier value.
    pub identifier: String,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The details of the telephone numbers used to contact organizations, services, and locations.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Phone {
    /// The identifier for the phone number. Each entry must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the location where this phone number is located.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    /// The identifier of the service for which this is the phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// The identifier of the organization for which this is the phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// The identifier of the contact for which this is the phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<Uuid>,
    /// The identifier of the ‘service at location’ table entry, when this phone number is specific to a service in a particular location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_at_location_id: Option<Uuid>,
    /// The phone number.
    pub number: String,
    /// The extension of the phone number.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extension: Option<f64>,
    /// Indicates the type of phone service, drawing from the RFC6350 list of types (text (for SMS), voice, fax, cell, video, pager, textphone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub r#type: Option<String>,
    /// A free text description providing extra information about the phone service
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The details of the languages that are spoken at locations or services. This does not include languages which can only be used with interpretation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Language>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The details of collections of related services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Program {
    /// The identifier for the program. Each program must have a unique identifier.
    pub id: Uuid,
    /// The identifier for the organization which the program belongs to. Each program must belong to a single organization, and the identifier for that organization should be given here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// The name of the program.
    pub name: String,
    /// The (optional) alternative name for the program.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_name: Option<String>,
    /// A free text description of the program
    pub description: String,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The details of any documents that are required in order to access or use services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct RequiredDocument {
    /// The identifier for the document. Each document must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the service for which this entry describes the required document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// A free text description of the document required to apply for or receive the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub document: Option<String>,
    /// A web link to the document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The details of when a service or location is open. Entries are RFC 5545 RRULES.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Schedule {
    /// The identifier for the schedule. Each entry must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the service for which this is the regular schedule
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// The identifier of the location for which this is the regular schedule
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    /// The identifier of the ‘service at location’ table entry, when this schedule is specific to a service in a particular location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_at_location_id: Option<Uuid>,
    /// The date from which the schedule information is valid. It must be in the ISO 8601 format of YYYY-MM-DD,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// The last date on which the schedule information is valid. It must be in the ISO 8601 format of YYYY-MM-DD.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_to: Option<String>,
    /// iCal - The date of the first event is the schedule. Necessary when using the ‘interval’ feature, optional otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dtstart: Option<String>,
    /// The timezone that all dates are expressed as, expressed as a UTC offset. Dates are assumed to be UTC otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timezone: Option<f64>,
    /// iCal - The date of the last occurrence of the recurring event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// iCal - The number of times that the event occurs. Use this instead of ‘until’, if appropriate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<f64>,
    /// iCal - The two-letter code for the day on which the week starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wkst: Option<String>,
    /// iCal - How often the frequency repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub freq: Option<String>,
    /// iCal - How often the frequency repeats. For example, and Interval of 2 for a WEEKLY Frequency would represent fortnightly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<f64>,
    /// iCal - Comma separated days of the week. Where freq is MONTHLY each part can be preceded by a positive or negative integer to represent which occurrence in a month; e.g. 2MO is the second Monday in...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byday: Option<String>,
    /// iCal - Comma separated numeric weeks of the year, where freq is WEEKLY. Can be negative to represent weeks before the end of the year; e.g. -5 is the 5th to last week in a year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byweekno: Option<String>,
    /// iCal - Comma separated numeric days of the month, where frequency is MONTHLY. Can be negative to represent days before the end of the month; e.g. -5 is the 5th to last day in a month.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bymonthday: Option<String>,
    /// iCal - Comma separated numeric days of the month, where frequency is YEARLY. Can be negative to represent days before the end of the year; e.g. -1 is the last day in a year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub byyearday: Option<String>,
    /// A free text description of the availability of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The time when a service or location opens. This should use HH:MM format and should include timezone information, either adding the suffix ‘Z’ when the date is in UTC, or including an offset from UT...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opens_at: Option<String>,
    /// The time when a service or location closes. This should use HH:MM format and should include timezone information, either adding the suffix ‘Z’ when the date is in UTC, or including an offset from U...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes_at: Option<String>,
    /// URL of a link for the schedule which may show each individual session and may provide a booking facility.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_link: Option<String>,
    /// A free text description of how to attend this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attending_type: Option<String>,
    /// Free text notes on the schedule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The details of the services provided by organizations to a range of different groups.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Service {
    /// The identifier for the service. Each service must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the organization that provides this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_id: Option<Uuid>,
    /// The identifier of the program this service is delivered under.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_id: Option<Uuid>,
    /// The official or public name of the service.
    pub name: String,
    /// An (optional) alternative name for this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternate_name: Option<String>,
    /// A free text description of the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// URL of the service
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// An email address which can be used to contact the service provider.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The current status of the service which can be active, inactive, defunct, or temporarily closed.
    pub status: String,
    /// A free text description of any interpretation services available for accessing this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interpretation_services: Option<String>,
    /// A free text description of the steps needed to access this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub application_process: Option<String>,
    /// A free text description of any charges for service users to access this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees_description: Option<String>,
    /// DEPRECATED: The time a client may expect to wait before receiving a service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wait_time: Option<String>,
    /// DEPRECATED: Details of any charges for service users to access this service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fees: Option<String>,
    /// A free text description of any accreditations. Accreditation is the formal evaluation of an organization or program against best practice standards set by an accrediting organization.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accreditations: Option<String>,
    /// A free text description of the type of person for whom this service is intended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eligibility_description: Option<String>,
    /// The minimum age of a person required to meet this eligibility requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_age: Option<f64>,
    /// The maximum age of a person required to meet this eligibility requirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum_age: Option<f64>,
    /// The date that the information about the service was last checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assured_date: Option<String>,
    /// The contact e-mail address for the person or organization which last assured the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assurer_email: Option<String>,
    /// DEPRECATED: An organization may have a license issued by a government entity to operate legally. A list of any such licenses can be provided here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub licenses: Option<String>,
    /// A description of any short term alerts concerning the service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<String>,
    /// The datetime when the service, or any related information about the service, has changed. Should have millisecond accuracy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_modified: Option<String>,
    /// The details of the telephone numbers used to contact organizations, services, and locations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Phone>,
    /// The details of when a service or location is open. Entries are RFC 5545 RRULES.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
    /// The details of the geographic area for which a service is available.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_areas: Vec<ServiceArea>,
    /// A link between a service and a specific location.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub service_at_locations: Vec<ServiceAtLocation>,
    /// The details of the languages that are spoken at locations or services. This does not include languages which can only be used with interpretation.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub languages: Vec<Language>,
    /// The details about each organization delivering services. Each service should be linked to the organization responsible for its delivery. One organization may deliver many services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<Box<Organization>>,
    /// The sources of funding for a service or organization.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub funding: Vec<Funding>,
    /// The costs of a service at certain points in time. This is an LGA Extension table. This table provides a structured version of the text information contained in the 'fees' field of the 'service' table.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cost_options: Vec<CostOption>,
    /// The details of collections of related services.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program: Option<Box<Program>>,
    /// The details of any documents that are required in order to access or use services.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub required_documents: Vec<RequiredDocument>,
    /// The details of the named contacts for services and organizations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// The details of the geographic area for which a service is available.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceArea {
    /// The identifier for the service area. Each service area must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the service for which this entry describes the service area
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// A free text geographic area where a service is available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// A more detailed free text description of this service area. Used to provide any additional information that cannot be communicated using the structured area and geometry fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A definition of the polygon defining the area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent: Option<String>,
    /// The format of the extent field  populated from an enum of  "geojson", "topojson",  "kml",and (for legacy systems or early state during transformation) "text".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extent_type: Option<String>,
    /// A URI which acts as a persistent identifier to identify an area.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// A link between a service and a specific location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct ServiceAtLocation {
    /// The identifier of the service at location entry. Each entry must have a unique identifier.
    pub id: Uuid,
    /// The identifier of the service at a given location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_id: Option<Uuid>,
    /// The identifier of the location where this service operates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location_id: Option<Uuid>,
    /// A free text description of the service at this specific location.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The details of the named contacts for services and organizations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub contacts: Vec<Contact>,
    /// The details of the telephone numbers used to contact organizations, services, and locations.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phones: Vec<Phone>,
    /// The details of when a service or location is open. Entries are RFC 5545 RRULES.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schedules: Vec<Schedule>,
    /// The details of the locations where organizations operate. Locations may be virtual, and one organization may have many locations.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Box<Location>>,
    /// A link between a service and one or more classifications that describe the nature of the service provided.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
    /// The service, in the nested (compiled) form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<Box<Service>>,
}

/// The taxonomies from which taxonomy terms are taken.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Taxonomy {
    /// The identifier of the taxonomy. Each entry must have a unique identifier
    pub id: Uuid,
    /// The name of the taxonomy from which terms are sourced.
    pub name: String,
    /// A free text description of the taxonomy.
    pub description: String,
    /// The URI of the taxonomy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// The version of the taxonomy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}

/// Each service can be categorized according to one or more taxonomy terms. The taxonomy_term object contains a list of taxonomy terms, their names, and, for hierarchical taxonomies, their structure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct TaxonomyTerm {
    /// The identifier for this taxonomy term. Each taxonomy term must have a unique identifier, within the scope of the dataset.
    pub id: Uuid,
    /// The term identfier as used in the taxonomy. This and the taxonomy_id combined define the term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The taxonomy term itself.
    pub name: String,
    /// A free text description of the term.
    pub description: String,
    /// If this is a child term in a hierarchical taxonomy, give the identifier of the parent category. For top-level categories, this is not required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<Uuid>,
    /// If this is an established taxonomy, a free text description of which taxonomy is in use. If possible, provide a URI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy: Option<String>,
    /// Taxonomies from which taxonomy terms are taken
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_detail: Option<Box<Taxonomy>>,
    /// An ISO 639-1, or ISO 639-2 [language code](available at http://www.loc.gov/standards/iso639-2/php/code_list.php) to represent the language of the term. The three-letter codes from ISO 639-2 provide...
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub language: Option<String>,
    /// The identifier of the taxonomy containing the term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taxonomy_id: Option<Uuid>,
    /// URI of the term.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub term_uri: Option<String>,
    /// A record of the changes that have been made to the data in order to maintain provenance information.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub metadata: Vec<MetadataEntry>,
}
