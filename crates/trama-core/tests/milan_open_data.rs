//! Point-in-polygon against ground truth written by others: Milan's 28 public swimming pools
//! carry the NIL and the Municipio they are in (`../shared/data/italy/milano-opendata`).

use trama_core::areas::areas_from_geojson;
use trama_core::geo::Coordinates;

fn read(name: &str) -> serde_json::Value {
    let dir = trama_testkit::require_shared_data().join("italy/milano-opendata");
    serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap()
}

#[test]
fn every_pool_falls_in_the_nil_and_municipio_it_names() {
    let nil = areas_from_geojson(&read("ds964.nil_wm.geojson"), None).unwrap();
    let municipi = areas_from_geojson(&read("ds379_municipi_label.geojson"), None).unwrap();
    assert_eq!(nil.len(), 88);
    assert_eq!(municipi.len(), 9);
    assert!(nil.iter().all(|a| a.kind == "nil") && municipi.iter().all(|a| a.kind == "municipio"));
    let pools = read("ds32.centri_balneari_milano__final.geojson");
    let features = pools["features"].as_array().unwrap();
    assert_eq!(features.len(), 28);
    for f in features {
        let c = &f["geometry"]["coordinates"];
        let p = Coordinates::new(c[1].as_f64().unwrap(), c[0].as_f64().unwrap()).unwrap();
        let props = &f["properties"];
        let in_nil: Vec<&str> = nil
            .iter()
            .filter(|a| a.contains(&p))
            .map(|a| a.code.as_str())
            .collect();
        let in_mun: Vec<&str> = municipi
            .iter()
            .filter(|a| a.contains(&p))
            .map(|a| a.code.as_str())
            .collect();
        assert_eq!(
            in_nil,
            [props["ID_NIL"].as_str().unwrap()],
            "{}",
            props["DENOMINAZIONE"]
        );
        assert_eq!(
            in_mun,
            [props["MUNICIPIO"].as_str().unwrap()],
            "{}",
            props["DENOMINAZIONE"]
        );
    }
}
